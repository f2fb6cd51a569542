"""Back-office use cases."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.models import Task
from servicekit.auth import forbidden
from servicekit.identity import Identity
from servicekit.problems import not_found


def check_department(identity: Identity, department_code: str) -> None:
    """A department (or municipal system) works only its own list; operators see all."""
    if identity.kind != "operator" and identity.department != department_code:
        raise forbidden(f"只能查看本部门的任务 (only your department's tasks; you are {identity.department})")


async def worklist(
    session: AsyncSession, identity: Identity, department_code: str, limit: int
) -> tuple[list[Task], int]:
    check_department(identity, department_code)
    where = Task.department_code == department_code
    total = await session.scalar(sa.select(sa.func.count()).select_from(Task).where(where))
    rows = await session.scalars(
        sa.select(Task).where(where).order_by(Task.deadline_date, Task.received_at).limit(limit)
    )
    return list(rows), int(total or 0)


async def task_for_application(session: AsyncSession, identity: Identity, application_id: str) -> Task:
    task = await session.scalar(sa.select(Task).where(Task.application_id == application_id))
    if task is None or (identity.kind != "operator" and identity.department != task.department_code):
        raise not_found("任务 task for application", application_id)
    return task
