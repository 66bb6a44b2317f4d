"""What the ``ts`` of a readings file stamps: the end of each reading's interval or its start.

kilnwatch stores every ``interval`` and ``counter`` reading at the END of its interval
(docs/formats.md): an interval meter's value is the quantity of ``(ts − interval, ts]``, a
counter's value the register read at ``ts``. Many meter exports stamp the interval's START
instead (the row of 08:00 holds the quantity of 08:00–09:00, or the register captured when
that interval closed). Imported as if stamped at the end, such a file lands one interval early
and nobody would notice: the day and month totals move by one interval at each edge.

A readings file therefore declares its convention (:data:`CONVENTIONS`): for the whole file
(``kilnwatch import readings --ts-convention start``; the default is ``end``) or per row in the
optional column ``ts_convention`` (``end`` or ``start``; empty: the file's). A row stamped at
its start is stored at ``ts + interval``, where ``interval`` is the meter's reading interval:
the median spacing of that meter's distinct timestamps in the file (carried from one chunk to
the next). ``instant`` readings are samples at an instant and are never moved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import polars as pl

from kilnwatch.errors import InputError
from kilnwatch.ingest.validate import IngestMeter

Convention = Literal["end", "start"]
CONVENTIONS: tuple[Convention, ...] = ("end", "start")
DEFAULT_CONVENTION: Convention = "end"
COLUMN = "ts_convention"
#: Measurements whose readings belong to an interval (an ``instant`` reading does not).
INTERVAL_MEASUREMENTS = ("interval", "counter")
CODE = "ingest.ts_convention"


def convention_of(text: str, *, file: str | None = None) -> Convention:
    """A convention from its name; an error naming the choices otherwise."""
    value = text.strip().lower()
    if value not in CONVENTIONS:
        raise InputError(
            f"ts convention {text!r} is not one of {', '.join(CONVENTIONS)}",
            file=file,
            field=COLUMN,
            code=CODE,
        )
    return value


def median_step_us(ts_us: np.ndarray) -> int | None:
    """The usual spacing [µs] of sorted distinct timestamps, or None with fewer than two."""
    steps = np.diff(ts_us)
    steps = steps[steps > 0]
    return int(np.median(steps)) if steps.size else None


@dataclass
class IntervalEnds:
    """Moves the rows of a file stamped at interval starts to their interval ends, chunk by
    chunk (one instance per file: each meter's last timestamp and interval carry over).

    Parameters
    ----------
    default : {'end', 'start'}
        The file's convention, for rows without a ``ts_convention`` of their own.
    file : str
        The file, for errors.
    """

    default: Convention
    file: str
    last_us: dict[str, int] = field(default_factory=dict)
    step_us: dict[str, int] = field(default_factory=dict)
    moved: int = 0

    def row_conventions(self, table: pl.DataFrame, first_row_no: int) -> pl.Series:
        """Per row of a chunk, True when its ``ts`` stamps the start of its interval."""
        if COLUMN not in table.columns:
            return pl.repeat(self.default == "start", table.height, eager=True)
        text = table.get_column(COLUMN).cast(pl.Utf8).fill_null("").str.strip_chars()
        text = text.str.to_lowercase()
        bad = ~text.is_in(["", *CONVENTIONS])
        if bad.any():
            row = first_row_no + int(bad.arg_true()[0])
            value = text.filter(bad)[0]
            raise InputError(
                f"{value!r} is not a ts convention (end, start or empty)",
                file=self.file,
                row=row,
                field=COLUMN,
                code=CODE,
            )
        return (text == "start") | ((text == "") & (self.default == "start"))

    def apply(
        self,
        raw: pl.DataFrame,
        table: pl.DataFrame,
        meters: Mapping[str, IngestMeter],
        first_row_no: int,
    ) -> pl.DataFrame:
        """``raw`` (a parsed chunk: ``meter_code``, ``ts``, ``row_no``) with the ``ts`` of its
        start-stamped interval and counter rows moved to their interval ends."""
        start = self.row_conventions(table, first_row_no)
        measurement = {code: m.measurement for code, m in meters.items()}
        frame = raw.with_columns(
            start.alias("_start"),
            pl.col("meter_code")
            .replace_strict(measurement, default=None, return_dtype=pl.Utf8)
            .is_in(INTERVAL_MEASUREMENTS)
            .fill_null(False)
            .alias("_moves"),
        )
        self._learn(frame)
        if not frame.get_column("_start").any():
            return raw
        movable = frame.filter(pl.col("_start") & pl.col("_moves") & pl.col("ts").is_not_null())
        unknown = movable.filter(~pl.col("meter_code").is_in(list(self.step_us)))
        if unknown.height:
            row = unknown.row(0, named=True)
            raise InputError(
                f"meter {row['meter_code']} has a single timestamp in the file so far: the "
                "length of its interval, needed to move a start stamp to the interval's end, "
                "is unknown (stamp it at the end, or send more readings in the file)",
                file=self.file,
                row=int(row["row_no"]),
                field="ts",
                code=CODE,
            )
        self.moved += movable.height
        shift = pl.col("meter_code").replace_strict(self.step_us, default=0, return_dtype=pl.Int64)
        moved = pl.col("ts") + pl.duration(microseconds=shift)
        return frame.with_columns(
            pl.when(pl.col("_start") & pl.col("_moves")).then(moved).otherwise(pl.col("ts"))
        ).drop("_start", "_moves")

    def _learn(self, frame: pl.DataFrame) -> None:
        """Each meter's interval from its distinct timestamps in this chunk and the last one
        of the chunks before; a meter's interval once known stays (not learnt again in every
        chunk: a time-ordered file holds every meter in every chunk)."""
        learning = pl.col("_moves") & pl.col("ts").is_not_null()
        if self.step_us:
            learning &= ~pl.col("meter_code").is_in(list(self.step_us))
        stamps = (
            frame.filter(learning)
            .select("meter_code", pl.col("ts").dt.epoch("us").alias("us"))
            .group_by("meter_code")
            .agg(pl.col("us").unique().sort())
        )
        for code, us in stamps.iter_rows():
            series = np.asarray(us, dtype=np.int64)
            before = self.last_us.get(code)
            if before is not None and series.size and before < series[0]:
                series = np.concatenate(([before], series))
            step = median_step_us(series)
            if step is not None:
                self.step_us.setdefault(code, step)
            if series.size:
                self.last_us[code] = int(max(series[-1], before or series[-1]))
