"""Back-office use cases."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.models import Task
from servicekit.problems import not_found


async def worklist(session: AsyncSession, department_code: str, limit: int) -> tuple[list[Task], int]:
    where = Task.department_code == department_code
    total = await session.scalar(sa.select(sa.func.count()).select_from(Task).where(where))
    rows = await session.scalars(
        sa.select(Task).where(where).order_by(Task.deadline_date, Task.received_at).limit(limit)
    )
    return list(rows), int(total or 0)


async def task_for_application(session: AsyncSession, application_id: str) -> Task:
    task = await session.scalar(sa.select(Task).where(Task.application_id == application_id))
    if task is None:
        raise not_found("任务 task for application", application_id)
    return task
