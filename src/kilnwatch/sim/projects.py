"""Project control of the synthetic province: projects at every stage with their approvals
and ledgers, weekly production caps of production-controlled steel and coking plants, and
their resident supervisors; written to ``<out>/projects/`` (docs/formats.md, "Project control")
with the truth the tests compare against (``project_truth.csv``, ``cap_truth.csv``).

Built from its own random stream, so adding it changed no other file of a run. Approvals and
ledgers are consistent with each project's stage by construction (a project at a stage holds
what that stage requires), except the planned ones, whose plans are short on purpose; caps sit
``cap_headroom`` above a plant's usual output, and one plant without outages is labelled to
exceed its cap (``cap_breach_fraction`` of its usual output). The policy ratios are the ones of
``reference/projects``; document numbers are synthetic (``SIM-…``).
"""

from __future__ import annotations

from datetime import timedelta, timezone

import numpy as np

from kilnwatch.domain.periods import Period
from kilnwatch.domain.projects import APPROVAL_KINDS, STAGES
from kilnwatch.reference.energy import load_coal_carriers
from kilnwatch.reference.projects import (
    load_coal_substitution_ratios,
    load_replacement_ratios,
    region_class_of,
)
from kilnwatch.reference.registry import load_processes
from kilnwatch.sim.config import SimParams
from kilnwatch.sim.model import Enterprise, Project, ProjectControl, Province, Unit
from kilnwatch.sim.processes import load_sim_constants

KIND_OF_PROCESS = {
    "blast_furnace": "steel_ironmaking",
    "converter": "steel_steelmaking",
    "electric_arc_furnace": "steel_steelmaking",
    "cement_clinker_line": "cement_clinker",
    "float_glass_line": "flat_glass",
    "aluminium_potline": "electrolytic_aluminium",
    "coke_oven_top": "coking",
    "coke_oven_stamp": "coking",
}
CONTROLLED_INDUSTRIES = ("steel", "coking")
HOURS_PER_DAY = 24.0


def _c(name: str) -> float:
    return load_sim_constants()[name].value


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:.3f}"


def _candidates(province: Province) -> list[tuple[Enterprise, Unit, str]]:
    """(enterprise, a unit to copy, kind of capacity) for every enterprise with a kind."""
    out = []
    for ent in province.enterprises:
        for i in ent.unit_idx:
            u = province.units[i]
            if u.process in KIND_OF_PROCESS:
                out.append((ent, u, KIND_OF_PROCESS[u.process]))
                break
    return out


def _ratio(kind: str, region_code: str) -> tuple[float | None, bool]:
    policy = load_replacement_ratios()[(kind, region_class_of(region_code))]
    return policy.ratio, policy.prohibited


def _coal_rate(u: Unit) -> float:
    """Coal [t] per product unit of the unit's process (coal carriers in tonnes)."""
    coal = load_coal_carriers()
    return sum(rate for carrier, rate in u.carrier_rates.items() if carrier in coal)


def _project_rows(
    out: ProjectControl, params: SimParams, uscc: str, code: str, stage: str,
    ent: Enterprise, u: Unit, kind: str, ratio: float | None, short: bool,
) -> list[str]:  # fmt: skip
    """The rows of one project; returns the blocker codes of its next stage (the truth)."""
    first = params.start
    out.add("project_details", {
        "enterprise_uscc": uscc, "project_code": code, "capacity": _num(u.capacity),
        "capacity_unit": u.capacity_unit, "replacement_kind": kind, "replacement_ratio": "",
        "coal_t_per_year": "",
    })  # fmt: skip
    rate = _coal_rate(u) if u.capacity_unit == "t/a" else 0.0
    coal = u.capacity * rate if rate > 0 else None
    if coal is not None:
        out.files["project_details"][-1]["coal_t_per_year"] = _num(coal)
    granted = stage != "planned"
    for n, kind_a in enumerate(APPROVAL_KINDS):
        status = "approved" if granted or n == 0 else "pending"
        out.add("project_approvals", {
            "enterprise_uscc": uscc, "project_code": code, "kind": kind_a, "status": status,
            "authority": "", "document_no": f"SIM-{code}-{kind_a}" if status == "approved" else "",
            "issued_on": str(first - timedelta(days=400)) if status == "approved" else "",
        })  # fmt: skip
    share = _c("ledger_short_fraction") if short else 1.0 + _c("ledger_margin_fraction")
    retired = stage in ("trial_operation", "operating")
    blockers = [] if granted else ["projects.approval.missing"]
    if ratio is None:
        blockers.append("projects.replacement.ratio_unknown")
    else:
        required = u.capacity * ratio
        for part, half in enumerate((0.5, 0.5), start=1):
            out.add("capacity_replacements", {
                "enterprise_uscc": uscc, "project_code": code,
                "source_name": f"{ent.name[:-4]}退出产能{part}（模拟）",
                "capacity": _num(required * share * half),
                "capacity_unit": u.capacity_unit,
                "retired_on": str(first - timedelta(days=200)) if retired else "",
                "document_no": f"SIM-{code}-R",
            })  # fmt: skip
        if short:
            blockers.append("projects.replacement.short")
        elif stage in ("approved", "under_construction", "stopped"):
            blockers += ["projects.replacement.not_done"] if stage == "under_construction" else []
    if coal is not None:
        c_ratio = load_coal_substitution_ratios()[region_class_of(ent.region_code)].ratio
        achieved = stage == "operating"
        out.add("coal_substitutions", {
            "enterprise_uscc": uscc, "project_code": code, "source_kind": "closure",
            "source_name": "关停燃煤锅炉（模拟）", "coal_t_per_year": _num(coal * c_ratio * share),
            "achieved_on": str(first - timedelta(days=100)) if achieved else "",
            "document_no": f"SIM-{code}-C",
        })  # fmt: skip
        if short:
            blockers.append("projects.coal.short")
        elif stage == "trial_operation":
            blockers.append("projects.coal.not_done")
    return blockers


def _stage_projects(
    out: ProjectControl, params: SimParams, province: Province, uscc: list[str]
) -> None:
    """One new project at each stage (and a planned one with unknown ratio when possible)."""
    cands = _candidates(province)
    policy = [(c, *_ratio(c[2], c[0].region_code)) for c in cands]
    known = [c for c, ratio, prohibited in policy if ratio is not None and not prohibited]
    unknown = [c for c, ratio, _ in policy if ratio is None]
    plan: list[tuple[str, tuple[Enterprise, Unit, str], bool]] = []
    for i, stage in enumerate(STAGES):
        if known:
            plan.append((stage, known[i % len(known)], stage == "planned"))
    if unknown:
        plan.append(("planned", unknown[0], False))
    nexts = {"planned": "approved", "approved": "under_construction",
             "under_construction": "trial_operation", "trial_operation": "operating"}  # fmt: skip
    for n, (stage, (ent, u, kind), short) in enumerate(plan, start=1):
        code = f"P9{n:02d}"
        out.projects.append(Project(
            ent.idx, code, f"{ent.name[:-4]}{load_processes()[u.process].name_zh}项目（模拟）",
            stage, "pending" if stage == "planned" else "approved", [],
        ))  # fmt: skip
        ratio = _ratio(kind, ent.region_code)[0]
        blockers = _project_rows(
            out, params, uscc[ent.idx], code, stage, ent, u, kind, ratio, short
        )
        out.truth.setdefault("project_truth", []).append({
            "enterprise_uscc": uscc[ent.idx], "project_code": code, "stage": stage,
            "next_stage": nexts.get(stage, ""), "next_blockers": ";".join(sorted(set(blockers))),
        })  # fmt: skip


def _usual_output_per_day(province: Province, ent: Enterprise, product: str) -> float:
    spec = load_processes()
    return sum(
        province.units[i].rated_per_h * province.units[i].base_util * HOURS_PER_DAY
        for i in ent.unit_idx
        if spec[province.units[i].process].product == product
    )


def _caps(out: ProjectControl, params: SimParams, province: Province, uscc: list[str],
          rng: np.random.Generator) -> None:  # fmt: skip
    """Weekly output caps of production-controlled steel and coking plants."""
    spec = load_processes()
    plants = [e for e in province.enterprises if e.industry in CONTROLLED_INDUSTRIES]
    controlled = [e for e in plants if e.status == "production_controlled"]
    for industry in CONTROLLED_INDUSTRIES:  # at least one plant of each industry
        if not any(e.industry == industry for e in controlled):
            controlled += [e for e in plants if e.industry == industry][:1]
    quiet = [e for e in controlled if not any(province.units[i].outages for i in e.unit_idx)]
    breacher = (quiet or controlled)[0] if controlled else None
    last = params.start + timedelta(days=params.days - 1)
    zone = timezone(timedelta(hours=params.utc_offset_h))
    weeks = Period.of_days(params.start, last, zone).split("week")
    for n, ent in enumerate(sorted(controlled, key=lambda e: e.idx), start=1):
        product = spec[province.units[ent.unit_idx[-1]].process].product
        usual = _usual_output_per_day(province, ent, product) * 7
        for week in weeks:
            headroom = rng.uniform(_c("cap_headroom_min_fraction"), _c("cap_headroom_max_fraction"))
            factor = _c("cap_breach_fraction") if ent is breacher else 1.0 + headroom
            out.add("production_caps", {
                "enterprise_uscc": uscc[ent.idx], "period": week.label, "product": product,
                "output_t": _num(usual * factor), "energy_tce": "", "coal_t": "",
                "document_no": f"SIM-CAP-{ent.code}",
            })  # fmt: skip
            inside = week.first >= params.start and week.stop <= last + timedelta(days=1)
            out.truth.setdefault("cap_truth", []).append({
                "enterprise_uscc": uscc[ent.idx], "period": week.label,
                "week_inside_run": "true" if inside else "false",
                "breach": "true" if ent is breacher and inside else "false",
            })  # fmt: skip
        out.add("resident_supervisors", {
            "enterprise_uscc": uscc[ent.idx], "name": f"驻企监管员{n:02d}",
            "department": "industry_it", "assigned_by_region": ent.region_code[:4] + "00",
            "assigned_on": str(params.start - timedelta(days=60)), "username": "",
        })  # fmt: skip


def build_project_control(
    params: SimParams, province: Province, rng: np.random.Generator
) -> ProjectControl:
    """Every project control row and truth row of a run, and the new projects (which the
    caller adds to the registry's ``projects``)."""
    uscc = [e.uscc for e in province.enterprises]
    out = ProjectControl()
    _stage_projects(out, params, province, uscc)
    _caps(out, params, province, uscc, rng)
    return out


__all__ = ["build_project_control"]
