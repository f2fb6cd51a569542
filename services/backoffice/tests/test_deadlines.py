"""Deadline arithmetic on the 2025 calendar: National Day, 调休 Saturdays, 自然日, suspensions, extensions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from workcalendar import default_calendar

from backoffice.deadlines import china_date, days_between, extension_room, subtask_due, task_deadline

FRIDAY_BEFORE_NATIONAL_DAY = date(2025, 9, 26)


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        (0, date(2025, 9, 26)),  # 即办件: the same day
        (1, date(2025, 9, 28)),  # Sunday 9-28 is a 调休 working day
        (3, date(2025, 9, 30)),
        (4, date(2025, 10, 9)),  # 10-01..08 off
        (5, date(2025, 10, 10)),
        (6, date(2025, 10, 11)),  # Saturday 10-11 is a 调休 working day
        (7, date(2025, 10, 13)),
    ],
)
def test_working_day_deadlines_over_national_day(limit: int, expected: date) -> None:
    calendar = default_calendar()
    assert task_deadline(calendar, FRIDAY_BEFORE_NATIONAL_DAY, limit, 0, 0, "工作日") == expected


def test_calendar_day_limits_count_every_day_and_end_on_a_working_day() -> None:
    calendar = default_calendar()
    assert task_deadline(calendar, date(2025, 9, 20), 5, 0, 0, "自然日") == date(2025, 9, 25)
    # 9-26 + 5 days is 10-01, a holiday: the period ends on the next working day.
    assert task_deadline(calendar, FRIDAY_BEFORE_NATIONAL_DAY, 5, 0, 0, "自然日") == date(2025, 10, 9)
    assert days_between(calendar, date(2025, 9, 30), date(2025, 10, 9), "自然日") == 9


def test_a_suspension_of_three_working_days_moves_the_deadline_by_exactly_three() -> None:
    calendar = default_calendar()
    before = task_deadline(calendar, FRIDAY_BEFORE_NATIONAL_DAY, 5, 0, 0, "工作日")
    suspended = days_between(calendar, date(2025, 10, 9), date(2025, 10, 13), "工作日")
    assert suspended == 3  # Fri 10-10, the 调休 Saturday 10-11, Mon 10-13
    after = task_deadline(calendar, FRIDAY_BEFORE_NATIONAL_DAY, 5, suspended, 0, "工作日")
    assert (before, after) == (date(2025, 10, 10), date(2025, 10, 14))
    assert calendar.working_days_between(before, after) == 3
    assert days_between(calendar, date(2025, 10, 9), date(2025, 10, 9), "工作日") == 0


def test_assisting_departments_are_due_a_working_day_before_the_lead() -> None:
    calendar = default_calendar()
    assert subtask_due(calendar, FRIDAY_BEFORE_NATIONAL_DAY, 5, 0, 0, "工作日") == date(2025, 10, 9)
    assert subtask_due(calendar, FRIDAY_BEFORE_NATIONAL_DAY, 0, 0, 0, "工作日") == FRIDAY_BEFORE_NATIONAL_DAY


def test_extensions_fit_within_the_legal_limit_of_the_same_unit() -> None:
    assert extension_room(5, "工作日", 20, "工作日", 0) == 15
    assert extension_room(5, "工作日", 20, "工作日", 15) == 0
    assert extension_room(5, "工作日", 5, "工作日", 0) == 0
    assert extension_room(5, "工作日", 30, "自然日", 0) == 0
    assert extension_room(5, "工作日", None, None, 0) == 0


def test_the_acceptance_day_is_the_day_in_china() -> None:
    assert china_date(datetime(2025, 9, 25, 17, 30, tzinfo=UTC)) == date(2025, 9, 26)
