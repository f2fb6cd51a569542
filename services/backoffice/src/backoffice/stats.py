"""Statistics per department and item: volumes, timeliness, days used, satisfaction, rankings."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.models import IS_OPEN, Task
from backoffice.supervision_models import Rating
from backoffice.supervision_schemas import BAD_SCORE, DepartmentFigures, Figures, ItemFigures, Statistics

Key = tuple[str, str]  # (department_code, item_id)


@dataclass
class Tally:
    received: int = 0
    open: int = 0
    completed: int = 0
    on_time: int = 0
    overdue: int = 0
    days_used: int = 0
    limit_days: int = 0
    ratings: int = 0
    good: int = 0
    bad: int = 0

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def figures(self) -> dict[str, Any]:
        def rate(part: int, whole: int) -> float | None:
            return round(part / whole, 4) if whole else None

        return Figures(
            received=self.received,
            open=self.open,
            completed=self.completed,
            on_time=self.on_time,
            overdue=self.overdue,
            on_time_rate=rate(self.on_time, self.completed),
            average_days_used=round(self.days_used / self.completed, 2) if self.completed else None,
            average_limit_days=round(self.limit_days / self.completed, 2) if self.completed else None,
            ratings=self.ratings,
            satisfaction_rate=rate(self.good, self.ratings),
            bad_rating_rate=rate(self.bad, self.ratings),
        ).model_dump()


async def _tallies(
    session: AsyncSession, start: date, end: date, as_of: date, department: str | None
) -> tuple[dict[Key, Tally], dict[str, str]]:
    tallies: dict[Key, Tally] = defaultdict(Tally)
    names: dict[str, str] = {}
    scope = [Task.department_code == department] if department else []
    key = (Task.department_code, Task.item_id)
    received = await session.execute(
        sa.select(*key, sa.func.max(Task.item_name), sa.func.count())
        .where(Task.accepted_date.between(start, end), *scope)
        .group_by(*key)
    )
    for dept, item, name, count in received:
        tallies[dept, item].received, names[item] = count, name
    completed = await session.execute(
        sa.select(
            *key,
            sa.func.max(Task.item_name),
            sa.func.count(),
            sa.func.sum(sa.case((Task.on_time.is_(True), 1), else_=0)),
            sa.func.coalesce(sa.func.sum(Task.days_used), 0),
            sa.func.sum(Task.limit_days),
        )
        .where(Task.status == "decided", Task.decided_date.between(start, end), *scope)
        .group_by(*key)
    )
    for dept, item, name, count, on_time, used, limit in completed:
        tally = tallies[dept, item]
        tally.completed, tally.on_time, tally.days_used, tally.limit_days = (
            count,
            int(on_time),
            int(used),
            int(limit),
        )
        tally.overdue += count - int(on_time)
        names[item] = name
    backlog = await session.execute(
        sa.select(*key, sa.func.max(Task.item_name), sa.func.count()).where(IS_OPEN, *scope).group_by(*key)
    )
    for dept, item, name, count in backlog:
        tallies[dept, item].open, names[item] = count, name
    late = await session.execute(
        sa.select(*key, sa.func.max(Task.item_name), sa.func.count())
        .where(Task.status == "received", Task.deadline_date < as_of, *scope)
        .group_by(*key)
    )
    for dept, item, name, count in late:
        tallies[dept, item].overdue += count
        names[item] = name
    rating_scope = [Rating.department_code == department] if department else []
    ratings = await session.execute(
        sa.select(
            Rating.department_code,
            Rating.item_id,
            sa.func.count(),
            sa.func.sum(sa.case((Rating.score > BAD_SCORE, 1), else_=0)),
        )
        # The first rating of each stage counts; a 追评 shows how the follow-up went, not the case.
        .where(Rating.rated_date.between(start, end), Rating.follow_up_of == "", *rating_scope)
        .group_by(Rating.department_code, Rating.item_id)
    )
    for dept, item, count, good in ratings:
        tally = tallies[dept, item]
        tally.ratings, tally.good, tally.bad = count, int(good), count - int(good)
    return tallies, names


async def statistics(
    session: AsyncSession, start: date, end: date, today: date, department: str | None
) -> Statistics:
    async with session.begin():
        tallies, names = await _tallies(session, start, end, min(end, today), department)
    by_department: dict[str, Tally] = defaultdict(Tally)
    for (dept, _item), tally in tallies.items():
        by_department[dept].add(tally)
    departments = [(dept, tally.figures()) for dept, tally in by_department.items()]
    departments.sort(
        key=lambda d: (
            -(d[1]["on_time_rate"] if d[1]["on_time_rate"] is not None else -1),
            -(d[1]["satisfaction_rate"] if d[1]["satisfaction_rate"] is not None else -1),
            -d[1]["completed"],
            d[0],
        )
    )
    return Statistics(
        from_date=start,
        to_date=end,
        departments=[
            DepartmentFigures(department_code=dept, rank=rank, **figures)
            for rank, (dept, figures) in enumerate(departments, start=1)
        ],
        items=[
            ItemFigures(
                department_code=dept, item_id=item, item_name=names.get(item, item), **tally.figures()
            )
            for (dept, item), tally in sorted(tallies.items())
        ],
    )
