"""Detection quality of verification on a simulated province, and its speed.

    .venv/bin/python benchmarks/detection.py --seed 11 --enterprises 40 --days 31

Generates a province with the simulator, imports registry + readings + sources into a fresh
SQLite database, runs verification for every month, and scores the findings against
``labels.csv``. A finding matches a label when it is about the same enterprise (and the same
meter when the label names one), its period overlaps the label's, and its rule code maps to
the label's kind (``CHECKS.fault_kinds`` of ``kilnwatch.verify.checks``). Informational findings are
context, not accusations, and are left out of precision. Recall counts labels of magnitude
>= 5 %. Prints a ``RESULT`` JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from kilnwatch.config import Settings
from kilnwatch.domain.periods import Period
from kilnwatch.ingest.external_sources import import_sources
from kilnwatch.ingest.readings_file import import_readings_file
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import ValidationPolicy
from kilnwatch.sim.config import SimParams
from kilnwatch.sim.run import simulate_to_dir
from kilnwatch.store.engine import make_engine, make_session_factory, unit_of_work
from kilnwatch.store.migrate import upgrade
from kilnwatch.store.models import Enterprise, Meter
from kilnwatch.verify.checks import CHECKS
from kilnwatch.verify.findings import Finding
from kilnwatch.verify.run import verify_period

MATERIAL = 0.05


def months(start: date, days: int, zone: tzinfo) -> list[Period]:
    """The months of the simulated days, in the platform zone."""
    return Period.of_days(start, start + timedelta(days=days - 1), zone).split("month")


def load_pipeline(out: Path, db: Path) -> tuple[Any, dict[str, float]]:
    settings = Settings(database_url=f"sqlite:///{db}", environment="test")
    engine = make_engine(settings)
    upgrade(engine)
    timings = {}
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        t = time.perf_counter()
        import_registry(session, out)
        reading_file = out / "readings.csv"
        policy = ValidationPolicy(local_tz=settings.timezone)
        import_readings_file(session, reading_file, policy=policy)
        timings["import_readings_s"] = time.perf_counter() - t
        import_sources(session, out)
    return engine, timings


def plain_scan_s(engine: Any) -> tuple[float, int]:
    """Baseline: read every reading row once (no verification)."""
    t = time.perf_counter()
    with engine.connect() as conn:
        n = sum(1 for _ in conn.execute(text("SELECT meter_id, ts, value FROM readings")))
    return time.perf_counter() - t, n


def _aware(text_: str) -> datetime:
    return datetime.fromisoformat(text_)


def score(
    findings: list[Finding], labels: list[dict[str, str]], ids: dict[str, Any]
) -> dict[str, Any]:
    meter_ids, ent_ids = ids["meters"], ids["enterprises"]
    accusing = [f for f in findings if f.severity != "info"]
    matched_labels: set[str] = set()
    true_findings = 0
    false: list[str] = []
    for f in accusing:
        hit = False
        for lab in labels:
            if lab["kind"] not in CHECKS.fault_kinds(f.rule_code):
                continue
            if ent_ids.get(lab["enterprise_uscc"]) != f.enterprise_id:
                continue
            if (
                lab["meter_code"]
                and f.meter_id is not None
                and meter_ids.get(lab["meter_code"]) != f.meter_id
            ):
                continue
            if not (f.start_at < _aware(lab["end"]) and _aware(lab["start"]) < f.end_at):
                continue
            hit = True
            matched_labels.add(lab["fault_id"])
        true_findings += hit
        if not hit:
            false.append(f"{f.rule_code} ent={f.enterprise_id} meter={f.meter_id} {f.message}")
    per_kind: dict[str, dict[str, Any]] = {}
    for lab in labels:
        k = per_kind.setdefault(
            lab["kind"], {"labels": 0, "found": 0, "material": 0, "material_found": 0}
        )
        k["labels"] += 1
        k["found"] += lab["fault_id"] in matched_labels
        if float(lab["magnitude_fraction"]) >= MATERIAL:
            k["material"] += 1
            k["material_found"] += lab["fault_id"] in matched_labels
    for k in per_kind.values():
        k["recall"] = round(k["material_found"] / k["material"], 3) if k["material"] else None
    material = sum(k["material"] for k in per_kind.values())
    found = sum(k["material_found"] for k in per_kind.values())
    rules: dict[str, int] = {}
    for f in accusing:
        rules[f.rule_code] = rules.get(f.rule_code, 0) + 1
    return {
        "precision": round(true_findings / len(accusing), 3) if accusing else None,
        "recall": round(found / material, 3) if material else None,
        "findings": len(accusing),
        "true_findings": true_findings,
        "per_kind": per_kind,
        "per_rule": rules,
        "false_findings": false,
        "missed": [
            f"{lab['kind']} {lab['meter_code']} {lab['magnitude_fraction']} {lab['detail']}"
            for lab in labels
            if lab["fault_id"] not in matched_labels
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--enterprises", type=int, default=40)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 3, 1))
    parser.add_argument("--workdir", type=Path, help="keep the data here and reuse it next time")
    parser.add_argument("--show-false", action="store_true", help="list unmatched findings")
    args = parser.parse_args(argv)
    params = SimParams(
        seed=args.seed,
        enterprises=args.enterprises,
        days=args.days,
        start=args.start,
        output_format="csv",
    )
    with tempfile.TemporaryDirectory() as tmp:
        base = args.workdir or Path(tmp)
        out, db = base / "sim", base / "kw.sqlite"
        if db.exists():
            engine, timings = make_engine(Settings(database_url=f"sqlite:///{db}")), {}
            upgrade(engine)
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM findings"))
                conn.execute(text("DELETE FROM credibility_scores"))
        else:
            simulate_to_dir(params, out)
            engine, timings = load_pipeline(out, db)
        labels = list(csv.DictReader((out / "labels.csv").open(encoding="utf-8")))
        factory = make_session_factory(engine)
        t = time.perf_counter()
        findings: list[Finding] = []
        readings = 0
        with unit_of_work(factory) as session:
            for month in months(args.start, args.days, Settings().zone):
                report = verify_period(session, month)
                findings += report.findings
                readings += report.readings
            ids = {
                "meters": dict(session.execute(select(Meter.code, Meter.id)).all()),
                "enterprises": dict(session.execute(select(Enterprise.uscc, Enterprise.id)).all()),
            }
        seconds = time.perf_counter() - t
        scan_s, rows = plain_scan_s(engine)
        engine.dispose()
    result = score(findings, labels, ids)
    result.update(
        seconds=round(seconds, 2),
        plain_scan_seconds=round(scan_s, 2),
        rows=rows,
        seed=args.seed,
        enterprises=args.enterprises,
        days=args.days,
        import_readings_seconds=round(timings.get("import_readings_s", 0.0), 2),
    )
    if args.show_false:
        for f in result.pop("false_findings"):
            sys.stderr.write(f"FALSE {f}\n")
    else:
        result.pop("false_findings")
    sys.stdout.write("RESULT " + json.dumps(result, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
