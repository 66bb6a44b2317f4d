"""Per-meter rollups (hour, day, month), kept up to date on every write.

Maintenance is incremental: a write touches only the hours holding the changed readings (for
``counter`` meters also the hour of the next later reading, whose difference changed). Those
hours are recomputed from the raw rows of just those hours (latest version per timestamp);
days are recomputed from their hourly rows and months from their daily rows, so analysis and
late data never rescan the raw history.

Quantities per reading, by ``Meter.measurement``:

* ``counter``: the consumption since the previous reading (register difference). A decrease
  is a roll-over when the previous value was near the top of its register (a power of ten)
  and the new one near zero (consumption = top - previous + new), otherwise a reset
  (consumption 0 for that step); both are counted in ``rollovers``/``resets`` so that
  verification can see them. Consumption is never negative. The very first reading of a
  meter is its baseline (consumption 0).
* ``interval``: the value (the quantity in the interval ending at ``ts``).
* ``instant``: the value; ``sum / count`` is the mean.

Hours are UTC hours; days and months are calendar periods in the platform's zone
(``Settings.timezone``, passed down as ``ValidationPolicy.local_tz``), stored by their UTC
start.

Period attribution (docs/formats.md, Readings): the ``ts`` of an ``interval`` reading is the
END of its interval, and a ``counter`` difference is the quantity of the interval ending at the
later reading, so for these meters periods are ``(start, end]``: a reading belongs to the
period containing ``ts - 1 µs`` (the value at 1 April 00:00 local closes March).
``instant`` readings belong to the period containing ``ts`` (``[start, end)``). ``first_ts`` /
``last_ts`` / ``first`` / ``last`` stay the real timestamps and raw values.

Modules, each importing only those above it:

* :mod:`~kilnwatch.store.rollups.attribution`: grains, the period of a reading, counter deltas;
* :mod:`~kilnwatch.store.rollups.aggregate`: aggregates in memory (row by row and in Polars)
  and their row form;
* :mod:`~kilnwatch.store.rollups.reference`: the row-by-row recompute, the reference the SQL
  is tested against;
* :mod:`~kilnwatch.store.rollups.recompute`: the set-based recompute in SQL;
* :mod:`~kilnwatch.store.rollups.append`: pure appends folded in without a recompute.

Queries over the rollups are in :mod:`kilnwatch.store.repos.rollups`.
"""
