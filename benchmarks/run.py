"""Run every benchmark script and collect their ``RESULT {json}`` lines into one JSON file.

Usage: ``python benchmarks/run.py [NAME ...] [--out var/bench.json]``. Each script measures its
own same-run baseline and prints its figures and ratios on its last line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def parse_result(output: str) -> dict[str, object] | None:
    """The JSON object of the last ``RESULT`` line, or None."""
    for line in reversed(output.splitlines()):
        if line.startswith("RESULT "):
            parsed: dict[str, object] = json.loads(line[len("RESULT ") :])
            return parsed
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmark names (default: all)")
    parser.add_argument("--out", type=Path, default=Path("var/bench.json"))
    args = parser.parse_args()
    scripts = sorted(p for p in HERE.glob("*.py") if p.name != "run.py")
    if args.names:
        scripts = [p for p in scripts if p.stem in args.names]
    results: dict[str, object] = {}
    failed = False
    for script in scripts:
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
        result = parse_result(proc.stdout)
        print(f"{script.stem}: exit {proc.returncode} in {time.perf_counter() - started:.1f}s")
        if proc.returncode != 0 or result is None:
            failed = True
            print(proc.stderr[-2000:], file=sys.stderr)
        results[script.stem] = result
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"RESULT {json.dumps(results, ensure_ascii=False)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
