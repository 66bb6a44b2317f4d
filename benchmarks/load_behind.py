"""Injection study of a whole-month load behind an entry meter (issue 12): on provinces already
generated and imported (``benchmarks/detection.py --keep DIR``), a constant load of
``--fraction`` x its sub-meters' month total is added to one clean parent at a time, its
enterprise's checks and the parent / sub-meter province checks are run again, and the load
counts as found when a ``verify.submeter.parent_exceeds_children`` finding names the parent.

    .venv/bin/python benchmarks/detection.py --generator sim --seed 8 --keep /tmp/kw
    .venv/bin/python benchmarks/load_behind.py /tmp/kw/sim-base-8 --fraction 0.05 0.04

Clean pairs: a parent of the carrier (``--carrier``, default electricity) at entry level with
summable sub-meters, none of whose meters is labelled (``labels.csv``) or found wrong by a
check, and not found by the province checks before the load. Prints the pairs missed with
their layout and a ``RESULT`` JSON line; ``--false`` also lists the parent / sub-meter
findings on clean pairs of the runs without any load (false findings).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import pickle
import sys
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from kilnwatch.analytics.meters import load_enterprises
from kilnwatch.domain.periods import parse_period
from kilnwatch.store.engine import engine_for_url
from kilnwatch.verify.check import Check
from kilnwatch.verify.checks import CHECKS, run_checks
from kilnwatch.verify.context import EnterpriseContext, PeriodWindow, meter_data
from kilnwatch.verify.detectors.balance import PARENT_EXCEEDS
from kilnwatch.verify.enterprises import check_in_chunks
from kilnwatch.verify.findings import Finding
from kilnwatch.verify.settings import verify_settings

PERIOD = "2025-03"
ZONE = "Asia/Shanghai"  # the generators' +08:00
#: The province checks that judge a parent against its sub-meters (run after each load).
PAIR_CHECKS = ("verify.submeter.level_vs_peers", "verify.submeter.child_vs_peers")


def checked(run: Path) -> tuple[list[EnterpriseContext], list[Finding]]:
    """The contexts and the enterprise checks' findings of a kept run (cached in the run's
    folder as ``contexts.pickle``; remove it after a change to the enterprise checks)."""
    cache = run / "contexts.pickle"
    if cache.exists():
        with cache.open("rb") as f:
            contexts, found = pickle.load(f)
        settings = verify_settings()  # the rules' data as they are now
        return [dataclasses.replace(c, settings=settings) for c in contexts], found
    engine = engine_for_url(f"sqlite:///{run / 'kw.sqlite'}")
    with Session(engine) as session:
        infos = load_enterprises(session)
        window = PeriodWindow(parse_period(PERIOD, ZoneInfo(ZONE)))
        done = check_in_chunks(session, infos, window, verify_settings(), None, True)
    engine.dispose()
    found = [f for fs in done.found_by.values() for f in fs]
    with cache.open("wb") as f:
        pickle.dump((done.contexts, found), f)
    return done.contexts, found


def with_load(
    ctx: EnterpriseContext,
    parent_id: int,
    fraction: float,
    shape: str = "constant",
    days: tuple[int, int] | None = None,
) -> EnterpriseContext:
    """The enterprise with a load behind the parent (an interval meter's readings or a
    counter's register) on ``days`` [first, last) of the month (None: all of it):
    ``constant``, ``fraction`` x the sub-meters' mean load, spread evenly; ``proportional``,
    following the parent's own readings (a load that runs with the plant: each reading raised
    by ``fraction`` x the sub-meters' total over the parent's)."""
    parent = ctx.meters[parent_id]
    kids = sum(c.total for c in ctx.summable_children(parent))
    series = parent.series
    ts = series.ts_s
    value = np.nan_to_num(series.value.astype(np.float64))
    counter = parent.info.measurement == "counter"
    step = np.diff(ts, prepend=ts[0] - parent.step_s).astype(np.float64)
    if shape == "proportional":
        own = np.diff(value, prepend=value[0]) if counter else value
        increments = fraction * kids / parent.total * own
    else:
        rate = fraction * kids / (ctx.window.end_s - ctx.window.start_s)  # [meter unit / s]
        increments = rate * (step if counter else np.minimum(step, parent.step_s))
    if days is not None:
        first, last = (ctx.window.start_s + d * 86_400 for d in days)
        increments = increments * ((ts > first) & (ts <= last))
    added = np.cumsum(increments) if counter else increments
    loaded = dataclasses.replace(series, value=series.value + added)
    meters = dict(ctx.meters)
    meters[parent_id] = meter_data(parent.info, loaded, ctx.window, parent.repeats_ts)
    return EnterpriseContext(ctx.info, ctx.window, meters, ctx.sources, ctx.settings, ctx.earlier)


def pair_checks() -> list[Check]:
    return [c for c in CHECKS.province_checks if c.code in PAIR_CHECKS]


def province_findings(
    contexts: Sequence[EnterpriseContext], existing: Sequence[Finding]
) -> list[Finding]:
    out: list[Finding] = []
    for check in pair_checks():
        if check.run_province is not None:
            out += check.run_province(contexts, [*existing, *out])
    return out


def clean_pairs(
    contexts: Sequence[EnterpriseContext],
    existing: Sequence[Finding],
    labels: list[dict[str, str]],
    carrier: str,
) -> list[tuple[int, int]]:
    """(context index, parent id) of the clean pairs (module docstring)."""
    labelled = {(lab["enterprise_uscc"], lab["meter_code"]) for lab in labels}
    wrong = {(f.enterprise_id, f.meter_id) for f in existing if f.severity != "info"}
    out = []
    for i, ctx in enumerate(contexts):
        for m in ctx.by_level("entry", carrier):
            children = ctx.summable_children(m)
            ids = [m, *children]
            if not children or any((ctx.info.uscc, x.info.code) in labelled for x in ids):
                continue
            if any((ctx.info.id, x.info.id) in wrong for x in ids):
                continue
            out.append((i, m.info.id))
    return out


def layout(ctx: EnterpriseContext, parent_id: int) -> str:
    parent = ctx.meters[parent_id]
    kids = ctx.summable_children(parent)
    ratio = parent.total / max(sum(c.total for c in kids), 1e-9)
    return (
        f"{parent.info.code} {ctx.info.industry} {len(kids)} sub-meter(s) "
        f"[{', '.join(sorted({c.info.level for c in kids}))}] ratio {ratio:.4f} "
        f"{parent.info.measurement}"
    )


def study(
    run: Path,
    fractions: Sequence[float],
    carrier: str,
    shape: str = "constant",
    days: tuple[int, int] | None = None,
) -> dict[str, object]:
    contexts, existing = checked(run)
    labels = list(csv.DictReader((run / "data" / "labels.csv").open(encoding="utf-8")))
    before = province_findings(contexts, existing)
    flagged = {(f.enterprise_id, f.meter_id) for f in before if f.rule_code == PARENT_EXCEEDS}
    pairs = clean_pairs(contexts, existing, labels, carrier)
    false = [
        f"{contexts[i].info.uscc} {layout(contexts[i], p)}"
        for i, p in pairs
        if (contexts[i].info.id, p) in flagged
    ]
    pairs = [(i, p) for i, p in pairs if (contexts[i].info.id, p) not in flagged]
    result: dict[str, object] = {"run": run.name, "pairs": len(pairs), "false": false}
    for fraction in fractions:
        missed = []
        for i, p in pairs:
            ctx = contexts[i]
            loaded = with_load(ctx, p, fraction, shape, days)
            own = run_checks(loaded)
            others = [f for f in existing if f.enterprise_id != ctx.info.id]
            everyone = [*contexts[:i], loaded, *contexts[i + 1 :]]
            found = [*own, *province_findings(everyone, [*others, *own])]
            if not any(f.rule_code == PARENT_EXCEEDS and f.meter_id == p for f in found):
                missed.append(layout(ctx, p))
        result[f"found_{fraction}"] = len(pairs) - len(missed)
        result[f"missed_{fraction}"] = missed
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+", help="folders kept by detection.py")
    parser.add_argument("--fraction", type=float, nargs="+", default=[0.05, 0.04])
    parser.add_argument("--carrier", default="electricity")
    parser.add_argument("--shape", choices=("constant", "proportional"), default="constant")
    parser.add_argument(
        "--days", type=int, nargs=2, metavar=("FIRST", "LAST"),
        help="the load runs on days [FIRST, LAST) of the month only (0-based)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    totals = {"pairs": 0, **{f"found_{f}": 0 for f in args.fraction}, "false": 0}
    for run in args.runs:
        r = study(run, args.fraction, args.carrier, args.shape, args.days and tuple(args.days))
        line = " ".join(f"found {f} {r[f'found_{f}']}/{r['pairs']}" for f in args.fraction)
        sys.stdout.write(f"{run.name:<24} {line} false {len(r['false'])}\n")  # type: ignore[arg-type]
        for f in args.fraction:
            for m in r[f"missed_{f}"]:  # type: ignore[attr-defined]
                sys.stdout.write(f"    MISSED {f} {m}\n")
        for m in r["false"]:  # type: ignore[attr-defined]
            sys.stdout.write(f"    FALSE {m}\n")
        totals["pairs"] += r["pairs"]  # type: ignore[operator]
        totals["false"] += len(r["false"])  # type: ignore[arg-type]
        for f in args.fraction:
            totals[f"found_{f}"] += r[f"found_{f}"]  # type: ignore[operator]
    sys.stdout.write("RESULT " + json.dumps(totals) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
