"""Fuzzing profiles (issue 22). ``make test`` runs the short form (the ``default`` profile,
200 cases per target); ``make soak`` sets ``KILNWATCH_FUZZ=long`` for the long form
(100 000 cases per target: ≥ 100 000 for the codec and for the importers)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

LONG = os.environ.get("KILNWATCH_FUZZ") == "long"
CASES = 100_000 if LONG else 200
"""Cases per fuzz target in this run (read by the tests, printed in their summary)."""

settings.register_profile(
    "kilnwatch-fuzz",
    max_examples=CASES,
    deadline=None,  # a loaded CI machine must not turn slowness into failures
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=not LONG,  # the short form is the same cases every run
)
