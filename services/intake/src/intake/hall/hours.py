"""A hall's opening calendar: regular, off-peak (错时) and extended (延时) hours on the Chinese calendar.

A rule applies on every working day (weekday None: statutory holidays off, 调休 Saturdays on) or on
one weekday that is not a statutory holiday (e.g. Saturday 错时 service), in the months it names
(summer and winter hours) or all year. A rule with window codes opens only those windows (延时
with two windows); without, the whole hall.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from workcalendar import Calendar, default_calendar

from intake.hall.clock import at_local, local

LOOKAHEAD_DAYS = 62  # the longest closure (Spring Festival plus leave) is far shorter


@dataclass(frozen=True)
class Rule:
    kind: str
    weekday: int | None
    start: str  # HH:MM hall time
    end: str
    windows: tuple[str, ...] = ()
    months: tuple[int, ...] = ()

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Rule:
        windows, months = tuple(raw.get("windows") or ()), tuple(raw.get("months") or ())
        return cls(raw["kind"], raw.get("weekday"), raw["start"], raw["end"], windows, months)

    def applies_on(self, day: date, calendar: Calendar) -> bool:
        if self.months and day.month not in self.months:
            return False
        if self.weekday is None:
            return calendar.is_working_day(day)
        return day.weekday() == self.weekday and day not in calendar.holidays

    def opens(self, windows: Collection[str] | None) -> bool:
        """Open for any of `windows` (None: for the hall as a whole)."""
        return not self.windows or windows is None or any(code in self.windows for code in windows)


def rules(hours: Sequence[dict[str, Any]]) -> list[Rule]:
    return [Rule.of(raw) for raw in hours]


def intervals(
    hours: Sequence[dict[str, Any]],
    day: date,
    windows: Collection[str] | None = None,
    calendar: Calendar | None = None,
) -> list[tuple[datetime, datetime]]:
    """Opening intervals on `day` (for any of `windows` when given), sorted by start."""
    cal = calendar or default_calendar()
    found = [
        (at_local(day, r.start), at_local(day, r.end))
        for r in rules(hours)
        if r.applies_on(day, cal) and r.opens(windows)
    ]
    return sorted(found)


def is_open(hours: Sequence[dict[str, Any]], at: datetime, windows: Collection[str] | None = None) -> bool:
    return any(start <= at < end for start, end in intervals(hours, local(at).date(), windows))


def closing_at(hours: Sequence[dict[str, Any]], day: date) -> datetime | None:
    """When the hall's last interval of `day` ends; None when it does not open that day."""
    found = intervals(hours, day)
    return max(end for _, end in found) if found else None


def next_opening_day(hours: Sequence[dict[str, Any]], after: date) -> date | None:
    """The first day after `after` on which the hall opens."""
    for offset in range(1, LOOKAHEAD_DAYS + 1):
        day = after + timedelta(days=offset)
        if intervals(hours, day):
            return day
    return None


def next_opening(
    hours: Sequence[dict[str, Any]], at: datetime, windows: Collection[str] | None = None
) -> datetime | None:
    """When the hall (for any of `windows`) next opens after `at`: later today, or a later day."""
    today = local(at).date()
    for offset in range(LOOKAHEAD_DAYS + 1):
        starts = [s for s, _ in intervals(hours, today + timedelta(days=offset), windows) if s > at]
        if starts:
            return min(starts)
    return None


def within_hours(
    hours: Sequence[dict[str, Any]], day: date, start: str, duration_min: int, windows: Collection[str]
) -> bool:
    """Does [start, start + duration) on `day` lie inside one interval open for one of `windows`?"""
    begins = at_local(day, start)
    ends = begins + timedelta(minutes=duration_min)
    return any(s <= begins and ends <= e for s, e in intervals(hours, day, windows))
