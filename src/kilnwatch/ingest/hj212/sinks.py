"""A file sink for the HJ 212 server: committed readings appended to a readings CSV.

The CSV has the columns of ``readings.csv`` in docs/formats.md (``meter_code, ts, value,
unit, flag``). ``ts`` is the end of the period when it is known (hourly, daily, and minute
data of devices with ``minute_interval_min``), otherwise DataTime. Values whose code has no
meter in the device's map are not written; they are logged and counted in ``unmapped``.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import os
from collections import Counter
from datetime import datetime
from pathlib import Path

from kilnwatch.ingest.hj212.devices import Device
from kilnwatch.ingest.hj212.model import Packet
from kilnwatch.ingest.hj212.records import DecodedReading, packet_readings

logger = logging.getLogger("kilnwatch.ingest.hj212")

READINGS_COLUMNS = ("meter_code", "ts", "value", "unit", "flag")


def reading_row(reading: DecodedReading) -> dict[str, str]:
    """One readings.csv row; ``flag`` stays empty when the packet gave none."""
    ts = reading.ts_end if reading.ts_end is not None else reading.ts
    return {
        "meter_code": reading.meter_code or "",
        "ts": ts.isoformat(),
        "value": repr(reading.value),
        "unit": reading.unit or "",
        "flag": reading.flag or "",
    }


class CsvReadingSink:
    """Appends readings to a CSV file; ``commit`` returns after the rows are flushed.

    Parameters
    ----------
    path : Path
        The CSV file; the header is written when the file is new or empty.
    fsync : bool
        Also ``fsync`` after each commit, so an acknowledged frame survives a power cut.
    """

    def __init__(self, path: Path, *, fsync: bool = True) -> None:
        self.path = path
        self.fsync = fsync
        self.rows_written = 0
        self.unmapped: Counter[str] = Counter()
        self._lock = asyncio.Lock()

    async def commit(self, device: Device, packet: Packet, received_at: datetime) -> None:
        """Write the mapped readings of ``packet``."""
        del received_at
        report = packet_readings(device, packet)
        for problem in report.problems:
            logger.warning("hj212 %s: %s %s", problem.code, problem.message, problem.evidence)
        rows = [reading_row(r) for r in report.readings if r.meter_code is not None]
        self.unmapped.update(f"{r.mn}:{r.code}" for r in report.readings if r.meter_code is None)
        async with self._lock:
            await asyncio.to_thread(self._append, rows)
        self.rows_written += len(rows)

    def _append(self, rows: list[dict[str, str]]) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=READINGS_COLUMNS, lineterminator="\n")
        new = not self.path.exists() or self.path.stat().st_size == 0
        if new:
            writer.writeheader()
        writer.writerows(rows)
        with self.path.open("a", encoding="utf-8", newline="") as handle:
            handle.write(buffer.getvalue())
            handle.flush()
            if self.fsync:
                os.fsync(handle.fileno())
