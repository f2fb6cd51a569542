"""The notify clock: injected where time decides (quiet hours, back-off) so tests can set it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]
# Quiet hours and dates in messages follow the citizens' local time, not the server's.
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utc_now() -> datetime:
    return datetime.now(UTC)
