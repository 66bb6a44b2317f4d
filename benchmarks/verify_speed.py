"""Speed of verifying a province-month, beside a plain scan of the same rows.

    .venv/bin/python benchmarks/verify_speed.py --seed 21 --enterprises 300 --days 31

The figures come from ``benchmarks/detection.py`` (same pipeline); this entry point prints
only the timing part of its ``RESULT`` line.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from detection import main as detection_main  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        detection_main(argv)
    line = next(x for x in buffer.getvalue().splitlines() if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    run = result["runs"][0]
    keys = ("plain_scan_seconds", "rows", "enterprises", "days", "seed",
            "import_readings_seconds")  # fmt: skip
    timing = {"seconds": run["verify_seconds"], **{k: run[k] for k in keys}}
    timing["ratio_to_plain_scan"] = round(
        timing["seconds"] / max(run["plain_scan_seconds"], 1e-9), 2
    )
    sys.stdout.write("RESULT " + json.dumps(timing) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
