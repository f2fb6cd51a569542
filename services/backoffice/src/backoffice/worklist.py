"""A department's worklist: filters and deadline order, each served by a (partial) index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.models import IS_OPEN, Task
from backoffice.schemas import WorklistStatus
from backoffice.tasks import check_department
from servicekit.identity import Identity

# Counting stops here: an exact count of 50,000 open tasks costs more than the page itself (an
# index-only scan of every row), and a list shows "1000+" anyway. Statistics count backlogs exactly.
COUNT_CAP = 1_000


@dataclass(frozen=True)
class WorklistQuery:
    department_code: str
    status: WorklistStatus = "open"
    assignee: str | None = None
    unassigned: bool = False
    item_id: str | None = None
    overdue: bool = False
    due_before: date | None = None
    descending: bool = False
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True)
class Worklist:
    tasks: list[Task]
    total: int
    total_exact: bool


def _conditions(query: WorklistQuery, today: date) -> list[sa.ColumnElement[bool]]:
    where = [Task.department_code == query.department_code]
    where.append(IS_OPEN if query.status == "open" else Task.status == query.status)
    if query.assignee is not None:
        where.append(Task.assignee == query.assignee)
    if query.unassigned:
        where.append(Task.assignee.is_(None))
    if query.item_id is not None:
        where.append(Task.item_id == query.item_id)
    if query.overdue:
        where.append(Task.deadline_date < today)
    if query.due_before is not None:
        where.append(Task.deadline_date <= query.due_before)
    return where


async def worklist(session: AsyncSession, identity: Identity, query: WorklistQuery, today: date) -> Worklist:
    """Earliest deadline first (ties: earliest received), or latest first."""
    check_department(identity, query.department_code)
    where = _conditions(query, today)
    columns = (Task.deadline_date, Task.received_at)
    order = [column.desc() if query.descending else column.asc() for column in columns]
    capped = sa.select(Task.id).where(*where).limit(COUNT_CAP + 1).subquery()
    async with session.begin():
        counted = int(await session.scalar(sa.select(sa.func.count()).select_from(capped)) or 0)
        rows = await session.scalars(
            sa.select(Task).where(*where).order_by(*order).offset(query.offset).limit(query.limit)
        )
        return Worklist(list(rows), min(counted, COUNT_CAP), counted <= COUNT_CAP)
