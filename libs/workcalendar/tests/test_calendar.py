"""Working days around real holidays and 调休 make-up Saturdays."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from workcalendar import Calendar, default_calendar
from workcalendar.calendar import SHIPPED


def test_national_day_2025_with_its_make_up_saturday() -> None:
    cal = default_calendar()
    friday = date(2025, 9, 26)  # the Friday before National Day (国庆 10.1-10.8, 调休 9.28 Sun, 10.11 Sat)
    assert cal.is_working_day(date(2025, 9, 28))  # a Sunday that is worked
    assert not cal.is_working_day(date(2025, 10, 6))  # a Monday off
    assert cal.is_working_day(date(2025, 10, 11))  # a Saturday that is worked
    # 5 working days after the Friday: 9.28, 9.29, 9.30, 10.9, 10.10
    assert cal.add_working_days(friday, 5) == date(2025, 10, 10)
    assert cal.add_working_days(friday, 6) == date(2025, 10, 11)
    assert cal.working_days_between(friday, date(2025, 10, 11)) == 6


def test_spring_festival_2026() -> None:
    cal = default_calendar()
    assert cal.is_working_day(date(2026, 2, 14))  # 调休 Saturday
    assert not cal.is_working_day(date(2026, 2, 23))  # Monday in the holiday
    assert cal.next_working_day(date(2026, 2, 15)) == date(2026, 2, 24)


def test_a_new_notice_is_data_not_a_release(tmp_path: Path) -> None:
    notice = {
        "year": 2027,
        "source": "test",
        "holidays": {"2027-01-01": "元旦"},
        "workdays": {"2027-01-09": "调休"},
    }
    (tmp_path / "2027.json").write_text(json.dumps(notice), encoding="utf-8")
    assert not Calendar.load(SHIPPED).official(2027)
    cal = Calendar.load(tmp_path)
    assert cal.official(2027)
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.is_working_day(date(2027, 1, 9))  # a Saturday
