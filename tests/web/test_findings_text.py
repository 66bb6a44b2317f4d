"""Finding messages in the user's language from their evidence
(``kilnwatch.web.services.findings_text``)."""

from __future__ import annotations

from kilnwatch.web.i18n import translator
from kilnwatch.web.services.findings_text import evidence_label, finding_message

CAPPED = "verify.meter.capped"
CEILING = {"meter": "L1-COAL", "maximum": 12.5, "readings_at_maximum": 40,
           "share_of_at_load_readings": 0.12}  # fmt: skip
FLAT_RUN = {"meter": "L1-COAL", "basis": "flat_run", "maximum": 11.2, "readings_at_maximum": 96,
            "share_of_at_load_readings": 1.0, "flat_run_hours": 96.0,
            "usual_fraction_unmetered": 0.134}  # fmt: skip


def test_a_capped_meter_held_flat_has_a_message_of_its_own() -> None:
    """The flat-run cap is not "stuck at the maximum": its message names the hours held and
    the share of the usual reading not metered, in both languages."""
    en = finding_message(CAPPED, FLAT_RUN, "stored", translator("en"), "Asia/Shanghai")
    zh = finding_message(CAPPED, FLAT_RUN, "stored", translator("zh-CN"), "Asia/Shanghai")
    assert "held at 11.2 for 96 h" in en and "13.4%" in en.replace(" %", "%")
    assert "持续 96 小时" in zh and "maximum" not in zh
    ceiling = finding_message(CAPPED, CEILING, "stored", translator("en"), "Asia/Shanghai")
    assert "stuck at the maximum" in ceiling


def test_a_basis_without_a_message_of_its_own_uses_the_rule_message() -> None:
    smoothed = {"meter": "E1", "basis": "own_history", "smoothed_days": 3,
                "from": "2025-03-11T00:00:00+08:00", "to": "2025-03-14T00:00:00+08:00"}  # fmt: skip
    text = finding_message(
        "verify.meter.smoothed", smoothed, "stored", translator("en"), "Asia/Shanghai"
    )
    assert text.startswith("E1: hour-to-hour variation gone on 3 day(s)")
    assert "own_history" in text


def test_the_new_evidence_fields_are_labelled_in_both_languages() -> None:
    fields = ("episodes_above_upper_quantile", "flat_run_hours", "peer_spread_fraction",
              "accuracy_fraction", "usual_fraction_unmetered", "flat_hours_by_day")  # fmt: skip
    for lang in ("zh-CN", "en"):
        t = translator(lang)
        for field in fields:
            assert evidence_label(field, t) != field, (lang, field)
