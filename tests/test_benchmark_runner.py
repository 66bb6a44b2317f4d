from __future__ import annotations

import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location(
    "bench_run", Path(__file__).parents[1] / "benchmarks" / "run.py"
)
assert spec and spec.loader
bench_run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_run)


def test_parse_result_takes_the_last_result_line() -> None:
    out = 'noise\nRESULT {"a": 1}\nmore\nRESULT {"rows_per_s": 2.5}\n'
    assert bench_run.parse_result(out) == {"rows_per_s": 2.5}
    assert bench_run.parse_result("no result here") is None
