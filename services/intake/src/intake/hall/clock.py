"""The hall's clock: an injectable `now` (tests and benchmarks replace it) and hall-local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Annotated

from fastapi import Depends

# China has kept one offset without daylight saving since 1991: no tz database needed.
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def hall_now() -> datetime:
    """FastAPI dependency; override it (`app.dependency_overrides[hall_now]`) to move time."""
    return datetime.now(UTC)


NowDep = Annotated[datetime, Depends(hall_now)]


def local(at: datetime) -> datetime:
    return at.astimezone(CHINA)


def local_date(at: datetime) -> date:
    return at.astimezone(CHINA).date()


def at_local(day: date, hhmm: str) -> datetime:
    """The instant of `HH:MM` hall time on `day`."""
    return datetime.combine(day, parse_hhmm(hhmm), CHINA)


def parse_hhmm(hhmm: str) -> time:
    hours, minutes = hhmm.split(":")
    return time(int(hours), int(minutes))


def hhmm(moment: time) -> str:
    return moment.strftime("%H:%M")
