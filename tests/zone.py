"""The platform zone the tests pass explicitly: nothing in kilnwatch has a default zone, the
application takes it from ``Settings.timezone``. Asia/Shanghai has no DST."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from kilnwatch.ingest.validate import ValidationPolicy

ZONE_NAME = "Asia/Shanghai"
SHANGHAI = ZoneInfo(ZONE_NAME)
POLICY = ValidationPolicy(local_tz=ZONE_NAME)
"""Validation as the application runs it in the default zone."""
