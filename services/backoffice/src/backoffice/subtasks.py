"""联办件: the assisting (协办) departments' sub-tasks, their list and their opinions."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice import audit
from backoffice.events import emit
from backoffice.models import Subtask, Task
from backoffice.problems import conflict
from backoffice.schemas import SubtaskComplete
from backoffice.tasks import check_department, sees_department
from contracts.backoffice import SubtaskCompleted
from servicekit.identity import Identity
from servicekit.problems import not_found


async def subtask_list(
    session: AsyncSession, identity: Identity, department_code: str, status: str | None, limit: int
) -> tuple[list[Subtask], int]:
    check_department(identity, department_code)
    where = [Subtask.department_code == department_code]
    if status is not None:
        where.append(Subtask.status == status)
    async with session.begin():
        total = await session.scalar(sa.select(sa.func.count()).select_from(Subtask).where(*where))
        rows = await session.scalars(
            sa.select(Subtask).where(*where).order_by(Subtask.due_date, Subtask.created_at).limit(limit)
        )
        return list(rows), int(total or 0)


async def subtasks_of(session: AsyncSession, task_id: str) -> list[Subtask]:
    return list(
        await session.scalars(sa.select(Subtask).where(Subtask.task_id == task_id).order_by(Subtask.id))
    )


async def complete(
    session: AsyncSession, identity: Identity, subtask_id: str, body: SubtaskComplete, now: datetime
) -> Subtask:
    """The assisting department's opinion (协办意见); the lead may decide once every one is in."""
    async with session.begin():
        subtask = await session.scalar(sa.select(Subtask).where(Subtask.id == subtask_id).with_for_update())
        if subtask is None or not sees_department(identity, subtask.department_code):
            raise not_found("协办任务 sub-task", subtask_id)
        if subtask.status == "cancelled":
            raise conflict(
                "task_finished", "status", "state", "办件已终止 (the case ended without a decision)"
            )
        if subtask.status != "open":
            raise conflict(
                "already_completed", "status", "complete_once", "协办意见已提交 (already completed)"
            )
        task = await session.get(Task, subtask.task_id)
        assert task is not None
        if task.status not in ("received", "suspended"):
            raise conflict(
                "task_finished", "status", "state", f"主办任务状态为 {task.status} (the case is closed)"
            )
        subtask.status, subtask.conclusion, subtask.opinion = "completed", body.conclusion, body.opinion
        subtask.completed_at, subtask.completed_by = now, identity.client_id
        remaining = await session.scalar(
            sa.select(sa.func.count())
            .select_from(Subtask)
            .where(Subtask.task_id == task.id, Subtask.status == "open", Subtask.id != subtask.id)
        )
        audit.record(
            session,
            subject_kind="subtask",
            subject_id=subtask.id,
            action="subtask_completed",
            actor=identity,
            at=now,
            application_id=task.application_id,
            department_code=subtask.department_code,
            reason=body.opinion,
            conclusion=body.conclusion,
        )
        data = SubtaskCompleted(
            subtask_id=subtask.id,
            task_id=task.id,
            application_id=task.application_id,
            case_number=task.case_number,
            department_code=subtask.department_code,
            lead_department=task.department_code,
            conclusion=body.conclusion,
            remaining=int(remaining or 0),
            completed_at=now,
        )
        await emit(session, "backoffice.subtask.completed", task.application_id, data)
    return subtask
