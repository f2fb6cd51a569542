"""Working days on the Chinese calendar: is a day worked, and counting working days forward."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)
SHIPPED = Path(__file__).parent / "data"


@dataclass
class Calendar:
    holidays: dict[date, str] = field(default_factory=dict)  # days off, weekends within them too
    workdays: dict[date, str] = field(default_factory=dict)  # 调休: weekend days that are worked
    years: set[int] = field(default_factory=set)

    @classmethod
    def load(cls, *directories: Path) -> Calendar:
        """Later directories override earlier ones, year by year."""
        calendar = cls()
        files: dict[int, Path] = {}
        for directory in directories:
            for path in sorted(directory.glob("*.json")):
                files[int(path.stem)] = path
        for year, path in sorted(files.items()):
            data = json.loads(path.read_text(encoding="utf-8"))
            calendar.holidays.update({date.fromisoformat(d): n for d, n in data["holidays"].items()})
            calendar.workdays.update({date.fromisoformat(d): n for d, n in data["workdays"].items()})
            calendar.years.add(year)
        return calendar

    def official(self, year: int) -> bool:
        return year in self.years

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        if not self.official(day.year):
            _warn_unofficial(day.year)
        return day.weekday() < 5

    def add_working_days(self, start: date, days: int) -> date:
        """The day `days` working days after `start` (start itself not counted); 0 = start."""
        day, left = start, days
        while left > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how far `end` is from `start` in working days."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def next_working_day(self, day: date) -> date:
        """`day` itself when worked, otherwise the next working day."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day


@cache
def _warn_unofficial(year: int) -> None:
    log.warning("no holiday data for %d: counting Monday-Friday only until its notice is loaded", year)


@cache
def default_calendar() -> Calendar:
    """The shipped years, overridden by $WORKCALENDAR_DIR when set."""
    extra = os.environ.get("WORKCALENDAR_DIR")
    return Calendar.load(SHIPPED, *([Path(extra)] if extra else []))
