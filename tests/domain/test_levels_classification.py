"""Classification against NDRC, provincial and GB tables: six hand-worked examples."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kilnwatch.domain import (
    classify,
    comprehensive_energy_tce,
    energy_kgce,
    field_intensity,
    share_at_benchmark,
)
from kilnwatch.domain.levels import GB_CLASSES, NDRC_CLASSES, gap_to_level, kgce_per_numerator
from kilnwatch.errors import InputError, UnknownFieldError
from kilnwatch.reference.levels import (
    Target,
    load_level_tables,
    read_provincial_tables,
)

REL = 1e-9


def _level(c, table, name):
    return next(d for d in c.levels if d.table_id == table and d.level == name)


def _verdict(c, table):
    return next(v for v in c.verdicts if v.table_id == table)


def test_cement_clinker_line():
    """A clinker line making 1 000 000 t clinker a year.

    Energy: raw coal 140 000 t -> 140 000 000 kg x 0.7143 = 100 002 000 kgce;
    electricity 60 000 000 kWh x 0.1229 = 7 374 000 kgce; total 107 376 000 kgce.
    Intensity = 107 376 000 / 1 000 000 = 107.376 kgce/t.
    NDRC 2021 (benchmark 100, baseline 117): 100 < 107.376 <= 117 -> between.
    GB 16780-2021 (100/107/117): 107.376 > 107, <= 117 -> grade_3 (legal, no breach).
    Gap to benchmark = 7.376 kgce/t x 1 000 000 t = 7 376 000 kgce = 7 376 tce/a.
    """
    energy = comprehensive_energy_tce(
        {"raw_coal": (140_000, "t"), "electricity": (60_000_000, "kWh")}
    )
    assert energy.net_tce == pytest.approx(107_376, rel=REL)
    intensity = field_intensity("kgce/t", 1_000_000, energy_kgce=energy.net_tce * 1000)
    assert intensity == pytest.approx(107.376, rel=REL)
    c = classify("cement_clinker", intensity, output_per_year=1_000_000)
    assert (c.class_, c.class_table, c.legal_breach) == ("between", "ndrc_2021", False)
    assert _verdict(c, "GB 16780-2021").class_ == "grade_3"
    assert _verdict(c, "ndrc_2023").status == "no_confirmed_level"
    bench = _level(c, "ndrc_2021", "benchmark")
    assert bench.gap == pytest.approx(7.376, rel=REL)
    assert bench.gap_tce_per_year == pytest.approx(7_376, rel=REL)
    assert _level(c, "ndrc_2021", "baseline").gap_tce_per_year == 0.0


def test_stamp_charging_coke_oven():
    """A stamp-charging battery making 1 000 000 t coke a year.

    In: blast-furnace gas 800 000 000 m3 x 0.1286 = 102 880 000 kgce; electricity
    40 000 000 kWh x 0.1229 = 4 916 000 kgce; steam 200 000 t = 2e8 kg x 0.1286 = 25 720 000.
    Out: steam 100 000 t = 1e8 kg x 0.1286 = 12 860 000 kgce.
    Net = 102 880 000 + 4 916 000 + 25 720 000 - 12 860 000 = 120 656 000 kgce
    -> 120.656 kgce/t.  NDRC 2023 (110/140): between.  GB 21342-2025 (115/115/140): grade_3.
    Gap to benchmark = 10.656 kgce/t x 1e6 t = 10 656 tce/a.
    """
    energy = comprehensive_energy_tce(
        {
            "blast_furnace_gas": (800_000_000, "m3"),
            "electricity": (40_000_000, "kWh"),
            "steam": (200_000, "t"),
        },
        {"steam": (100_000, "t")},
    )
    assert energy.net_tce == pytest.approx(120_656, rel=REL)
    intensity = field_intensity("kgce/t", 1e6, energy_kgce=energy.net_tce * 1000)
    c = classify("coke_stamp_charging", intensity, output_per_year=1e6)
    assert (c.class_, c.class_table) == ("between", "ndrc_2023")
    assert _verdict(c, "GB 21342-2025").class_ == "grade_3"
    assert _level(c, "ndrc_2023", "benchmark").gap_tce_per_year == pytest.approx(10_656, rel=REL)


def test_electrolytic_aluminium_potline():
    """A potline making 400 000 t aluminium liquid with 5 240 000 000 kWh AC electricity.

    Intensity = 5.24e9 / 4e5 = 13 100 kWh/t.  NDRC 2021 (13 000/13 350): between.
    GB 21346-2022 铝液交流电耗 (12 950/13 000/13 350): grade_3.
    Gap to benchmark = 100 kWh/t x 400 000 t = 40 000 000 kWh x 0.1229 kgce/kWh (当量值)
    = 4 916 000 kgce = 4 916 tce/a.
    """
    intensity = field_intensity("kWh/t", 400_000, electricity_kwh=5_240_000_000)
    assert intensity == pytest.approx(13_100, rel=REL)
    c = classify("electrolytic_aluminium", intensity, output_per_year=400_000)
    assert (c.class_, c.class_table) == ("between", "ndrc_2021")
    assert _verdict(c, "GB 21346-2022").class_ == "grade_3"
    assert _level(c, "ndrc_2021", "benchmark").gap_tce_per_year == pytest.approx(4_916, rel=REL)


def test_flat_glass_line_above_800_t_per_day():
    """A float line > 800 t/d making 10 000 000 weight boxes a year.

    Natural gas 90 000 000 m3 x 1.2143 = 109 287 000 kgce; electricity 100 000 000 kWh x
    0.1229 = 12 290 000 kgce; total 121 577 000 kgce / 1e7 boxes = 12.1577 kgce/weight box.
    No NDRC table has a confirmed level -> class from GB 21340-2019 (8/10/12):
    12.1577 > 12 -> worse_than_grade_3, a legal breach; read as a policy class (no NDRC
    value) that is below_baseline (GB_GRADE_TO_CLASS).
    Gap to grade 3 = 0.1577 x 1e7 = 1 577 000 kgce = 1 577 tce/a.
    """
    energy = comprehensive_energy_tce(
        {"natural_gas": (90_000_000, "m3"), "electricity": (100_000_000, "kWh")}
    )
    intensity = field_intensity("kgce/weight_box", 1e7, energy_kgce=energy.net_tce * 1000)
    assert intensity == pytest.approx(12.1577, rel=REL)
    c = classify("flat_glass", intensity, variant="capacity_gt800_t_per_d", output_per_year=1e7)
    assert (c.class_, c.class_table, c.legal_breach, c.class_basis) == (
        "below_baseline",
        "GB 21340-2019",
        True,
        "gb_grade",
    )
    assert _verdict(c, "GB 21340-2019").class_ == "worse_than_grade_3"
    assert {v.table_id: v.status for v in c.verdicts if v.kind == "ndrc"} == {
        "ndrc_2021": "no_confirmed_level",
        "ndrc_2023": "no_confirmed_level",
    }
    assert _level(c, "GB 21340-2019", "grade3").gap_tce_per_year == pytest.approx(1_577, rel=REL)


def test_blast_furnace():
    """A blast furnace making 2 000 000 t hot metal a year.

    In: coke 700 000 t = 7e8 kg x 0.9714 = 679 980 000 kgce; injected raw coal 300 000 t =
    3e8 kg x 0.7143 = 214 290 000 kgce; electricity 1e8 kWh x 0.1229 = 12 290 000 kgce.
    Out: blast-furnace gas 1e9 m3 x 0.1286 = 128 600 000 kgce.
    Net = 777 960 000 kgce / 2e6 t = 388.98 kgce/t.
    NDRC 2023 (361/435): between.  GB 21256-2025 (361/370/415): grade_3.
    Gap to benchmark = 27.98 kgce/t x 2e6 t = 55 960 tce/a.
    """
    energy = comprehensive_energy_tce(
        {
            "coke": (700_000, "t"),
            "raw_coal": (300_000, "t"),
            "electricity": (100_000_000, "kWh"),
        },
        {"blast_furnace_gas": (1_000_000_000, "m3")},
    )
    intensity = field_intensity("kgce/t", 2e6, energy_kgce=energy.net_tce * 1000)
    assert intensity == pytest.approx(388.98, rel=REL)
    c = classify("blast_furnace", intensity, output_per_year=2e6)
    assert (c.class_, c.class_table) == ("between", "ndrc_2023")
    assert _verdict(c, "GB 21256-2025").class_ == "grade_3"
    assert _level(c, "ndrc_2023", "benchmark").gap_tce_per_year == pytest.approx(55_960, rel=REL)


def test_coal_power_unit_with_measured_heat_value():
    """An ultra-supercritical 1000 MW unit supplying 5 000 000 000 kWh a year.

    Raw coal 2 000 000 t at a measured 21 000 kJ/kg: 2e9 kg x 21 000 / 29 307
    = 1 433 104 719.009 kgce.  Supply rate = 1 433 104 719.009 x 1000 g / 5e9 kWh
    = 286.6209 gce/kWh.  GB 21258-2024 (268/276/283): worse_than_grade_3 -> legal breach.
    Gap to grade 3 = 3.6209 gce/kWh x 5e9 kWh = 18 104 719 009 g = 18 104.719 tce/a.
    """
    coal = energy_kgce("raw_coal", 2_000_000, "t", measured_lhv_kj_per_unit=21_000)
    assert coal.kgce == pytest.approx(1_433_104_719.009, rel=REL)
    rate = field_intensity("gce/kWh", 5e9, energy_kgce=coal.kgce)
    assert rate == pytest.approx(286.6209438, rel=REL)
    c = classify("coal_power", rate, variant="ultra_supercritical_1000mw", output_per_year=5e9)
    assert (c.class_, c.legal_breach) == ("below_baseline", True)
    assert _level(c, "GB 21258-2024", "grade3").gap_tce_per_year == pytest.approx(
        18_104.719009, rel=REL
    )


def test_variant_required_and_unknown_variant():
    c = classify("coal_power", 280)
    verdict = _verdict(c, "GB 21258-2024")
    assert verdict.status == "variant_required"
    assert "ultra_supercritical_1000mw" in verdict.variants
    assert c.class_ is None and not c.no_confirmed_level
    assert _verdict(classify("coal_power", 280, variant="nope"), "GB 21258-2024").status == (
        "undetermined"
    )


def test_unknown_field():
    with pytest.raises(UnknownFieldError):
        classify("unobtainium_smelting", 1.0)


def test_field_without_confirmed_level():
    """NDRC-only tables without values give 'no confirmed level'."""
    ndrc_only = [t for t in load_level_tables() if t.kind == "ndrc"]
    c = classify("oil_refining", 8.0, tables=ndrc_only)
    assert c.no_confirmed_level and c.class_ is None and c.levels == ()


def test_provincial_table_wins_over_older_ndrc(tmp_path: Path):
    """A provincial table (2024, stricter 95/110) is newer than NDRC 2021 and decides."""
    (tmp_path / "shandong_2024.csv").write_text(
        "field,variant,unit,benchmark,baseline,edition_year,source,confidence,notes\n"
        "cement_clinker,,kgce/t,95,110,2024,test fixture,low,\n",
        encoding="utf-8",
    )
    tables = (*load_level_tables(), *read_provincial_tables(tmp_path))
    c = classify("cement_clinker", 112.0, tables=tables)
    assert (c.class_, c.class_table) == ("below_baseline", "province:shandong_2024")
    assert _verdict(c, "ndrc_2021").class_ == "between"


def test_gap_direction():
    assert gap_to_level(105, 100, lower_is_better=True) == 5
    assert gap_to_level(105, 100, lower_is_better=False) == -5
    assert kgce_per_numerator("gce/kWh") == pytest.approx(0.001)
    assert kgce_per_numerator("kWh/t") == pytest.approx(0.1229)
    assert kgce_per_numerator("kgoe/t") is None


def test_share_at_benchmark():
    """Capacities 400 (benchmark) + 300 (between) + 300 (below): share = 400/1000 = 0.4 > 0.30."""
    result = share_at_benchmark([(400, "benchmark"), (300, "between"), (300, "below_baseline")])
    assert result.share_fraction == pytest.approx(0.4)
    assert result.target_fraction == pytest.approx(0.30)
    assert result.meets_target
    exactly = share_at_benchmark([(300, "benchmark"), (700, "between")])
    assert not exactly.meets_target  # "more than 30 %": exactly 30 % does not meet it
    with_classification = share_at_benchmark([(1.0, classify("cement_clinker", 99.0))])
    assert with_classification.share_fraction == 1.0
    own = Target("t", "", 50, "%", "ge", 2025, None, "test", "low")
    assert not share_at_benchmark([(400, "benchmark"), (600, None)], target=own).meets_target
    with pytest.raises(InputError):
        share_at_benchmark([])
    with pytest.raises(InputError):
        share_at_benchmark([(-1, "benchmark")])


_RANK = {name: i for i, name in enumerate((*NDRC_CLASSES, *GB_CLASSES))}


@settings(max_examples=60, deadline=None)
@given(
    field=st.sampled_from(
        ["cement_clinker", "blast_furnace", "electrolytic_aluminium", "sintering"]
    ),
    a=st.floats(min_value=-100, max_value=20_000, allow_nan=False),
    b=st.floats(min_value=-100, max_value=20_000, allow_nan=False),
)
def test_classification_is_monotone_in_intensity(field, a, b):
    """A lower (better) intensity never gets a worse class from any table."""
    low, high = sorted((a, b))
    c_low, c_high = classify(field, low), classify(field, high)
    for v_low, v_high in zip(c_low.verdicts, c_high.verdicts, strict=True):
        if v_low.class_ and v_high.class_:
            assert _RANK[v_low.class_] <= _RANK[v_high.class_]
    assert _RANK[c_low.class_] <= _RANK[c_high.class_]
