"""Statistical items that were accepted at import but that no check can compare (issue 12,
class 7: inputs must not be silently unusable).

Import refuses items and units it cannot read (a located error). An item can still be valid
and uncheckable for one enterprise: ``energy:coke`` from a plant without an entry meter of
coke, ``production:clinker`` from a plant with neither a clinker meter nor clinker shipments.
Verification says so in its run output instead of skipping them without a word.
"""

from __future__ import annotations

from dataclasses import dataclass

from kilnwatch.verify.context import EnterpriseContext


@dataclass(frozen=True)
class Unchecked:
    """One statistical item of an enterprise and month that no check compared."""

    uscc: str
    period: str
    item: str
    reason: str

    def __str__(self) -> str:
        return f"{self.uscc} {self.period} {self.item}: {self.reason}"


def unchecked_items(ctx: EnterpriseContext) -> list[Unchecked]:
    """The enterprise's statistical items of the month that nothing it has can check: energy
    and stocks of a carrier without an entry meter of it, production of a product without a
    product meter of it and without shipments of it."""
    out = []
    for item in sorted(ctx.sources.stats):
        kind, _, name = item.partition(":")
        reason = None
        if kind in ("energy", "stock_opening", "stock_closing"):
            if not ctx.by_level("entry", name):
                reason = f"no entry meter of {name}"
        elif kind == "production":
            product = f"product:{name}"
            metered = any(m.info.carrier == product for m in ctx.meters.values())
            shipped = any(w.direction == "out" and w.item == product for w in ctx.sources.waybills)
            if not metered and not shipped:
                reason = f"no product meter of {name} and no shipments of it"
        if reason is not None:
            out.append(Unchecked(ctx.info.uscc, ctx.window.period, item, reason))
    return out
