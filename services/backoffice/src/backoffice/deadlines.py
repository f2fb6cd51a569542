"""Deadlines on the Chinese calendar: promised limits, suspensions (补正, 特殊环节) and extensions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from workcalendar import Calendar

WORKING_DAYS = "工作日"
CALENDAR_DAYS = "自然日"
# China keeps one offset all year (no DST), so a fixed zone needs no tz database.
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
VISIT_WORKING_DAYS = 1  # 回访 of a bad rating
RECTIFY_WORKING_DAYS = 15  # 整改 of a bad rating
COMPLAINT_WORKING_DAYS = 5  # a complaint is answered (办结) like a 12345 general request


def china_date(moment: datetime) -> date:
    """The calendar day in China of an aware timestamp (a case accepted at 01:00 +08 is that day)."""
    return moment.astimezone(CHINA).date()


def utc_now() -> datetime:
    return datetime.now(UTC)


def deadline(calendar: Calendar, start: date, days: int, unit: str) -> date:
    """`days` of `unit` after `start` (not counted). 自然日 ending on a day off rolls to the next
    working day, as periods in administrative law do; 工作日 skip holidays and count 调休 Saturdays."""
    if unit == CALENDAR_DAYS:
        return calendar.next_working_day(start + timedelta(days=days))
    return calendar.add_working_days(start, days)


def task_deadline(
    calendar: Calendar, accepted: date, limit: int, suspended: int, extended: int, unit: str
) -> date:
    """Recomputed from the acceptance day each time, so suspensions and extensions never compound
    a holiday roll-over: counting limit + suspended + extended days once is the same walk."""
    return deadline(calendar, accepted, limit + suspended + extended, unit)


def subtask_due(
    calendar: Calendar, accepted: date, limit: int, suspended: int, extended: int, unit: str
) -> date:
    """An assisting department finishes one day before the lead's deadline, leaving it a day to decide."""
    return deadline(calendar, accepted, max(limit + suspended + extended - 1, 0), unit)


def days_between(calendar: Calendar, start: date, end: date, unit: str) -> int:
    """Days of `unit` in (start, end]; 0 when end is not after start."""
    if end <= start:
        return 0
    if unit == CALENDAR_DAYS:
        return (end - start).days
    return calendar.working_days_between(start, end)


def extension_room(limit: int, unit: str, legal: int | None, legal_unit: str | None, extended: int) -> int:
    """Days an extension may still add: up to the legal limit (法定时限), only in the same unit.

    An item whose promised limit already equals its legal limit, or that names none, allows none.
    """
    if legal is None or legal_unit != unit:
        return 0
    return max(legal - limit - extended, 0)
