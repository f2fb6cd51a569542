"""The clock of a task: 补正 and special steps stop it, resuming moves the deadline, extensions add to it."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from workcalendar import default_calendar

from backoffice import audit
from backoffice.deadlines import china_date, days_between, extension_room, subtask_due, task_deadline
from backoffice.events import emit
from backoffice.models import Subtask, Suspension, Task
from backoffice.problems import conflict, invalid
from backoffice.schemas import BuzhengRequest, ExtendRequest, ResumeRequest, SpecialStepRequest
from backoffice.tasks import load_task, require_actor, require_status
from contracts.backoffice import TaskExtended, TaskResumed, TaskSuspended
from servicekit.identity import Identity


async def _suspendable(session: AsyncSession, identity: Identity, task_id: str) -> Task:
    task = await load_task(session, identity, task_id, lock=True)
    if task.status == "suspended":
        raise conflict(
            "already_suspended", "status", "state", "任务已中止计时 (the clock is already stopped)"
        )
    require_status(task, "received")
    require_actor(task, identity)
    return task


async def _suspend(
    session: AsyncSession, identity: Identity, task: Task, now: datetime, suspension: Suspension
) -> Task:
    suspension.task_id, suspension.started_at, suspension.started_by = task.id, now, identity.client_id
    suspension.started_date = china_date(now)
    session.add(suspension)
    task.status = "suspended"
    audit.record_task(
        session,
        task,
        action=f"suspended_{suspension.kind}",
        actor=identity,
        at=now,
        reason=suspension.reason,
        materials=suspension.materials,
        step_name=suspension.step_name,
        due_date=suspension.due_date,
    )
    data = TaskSuspended(
        task_id=task.id,
        application_id=task.application_id,
        case_number=task.case_number,
        department_code=task.department_code,
        applicant_id=task.applicant_id,
        kind=suspension.kind,
        reason=suspension.reason,
        materials=suspension.materials,
        step_name=suspension.step_name,
        due_date=suspension.due_date,
        suspended_on=suspension.started_date,
    )
    await emit(session, "backoffice.task.suspended", task.application_id, data)
    return task


async def request_buzheng(
    session: AsyncSession, identity: Identity, task_id: str, body: BuzhengRequest, now: datetime
) -> Task:
    """补正: the applicant is told what to supply by when (一次性告知); the clock stops meanwhile."""
    if body.due_date <= china_date(now):
        raise invalid("due_date", "future_date", "补正期限须晚于今天 (must be after today)")
    async with session.begin():
        task = await _suspendable(session, identity, task_id)
        suspension = Suspension(
            id=uuid.uuid4().hex,
            kind="buzheng",
            reason=body.reason,
            materials=list(body.materials),
            due_date=body.due_date,
        )
        return await _suspend(session, identity, task, now, suspension)


async def start_special_step(
    session: AsyncSession, identity: Identity, task_id: str, body: SpecialStepRequest, now: datetime
) -> Task:
    """A 特殊环节 (公示, 专家评审, 现场踏勘 …) that the item says does not count toward the limit."""
    async with session.begin():
        task = await _suspendable(session, identity, task_id)
        special = [s["name"] for s in task.steps if not s.get("counts_toward_limit", True)]
        if body.step_name not in special:
            raise invalid(
                "step_name",
                "special_step",
                f"{body.step_name} 不是本事项不计时的特殊环节 (not a non-counting step; these are: "
                f"{', '.join(special) or '无 none'})",
            )
        suspension = Suspension(
            id=uuid.uuid4().hex,
            kind="special_step",
            reason=body.reason,
            materials=[],
            step_name=body.step_name,
        )
        return await _suspend(session, identity, task, now, suspension)


def _move_deadline(task: Task, subtasks: list[Subtask]) -> None:
    calendar = default_calendar()
    args = (task.accepted_date, task.limit_days, task.suspended_days, task.extended_days, task.limit_unit)
    task.deadline_date = task_deadline(calendar, *args)
    for subtask in subtasks:
        subtask.due_date = subtask_due(calendar, *args)


async def _open_subtasks(session: AsyncSession, task: Task) -> list[Subtask]:
    query = sa.select(Subtask).where(Subtask.task_id == task.id, Subtask.status == "open")
    return list(await session.scalars(query))


async def resume(
    session: AsyncSession, identity: Identity, task_id: str, body: ResumeRequest, now: datetime
) -> Task:
    """The 补正 arrived or the special step ended: the deadline moves by the days actually suspended."""
    async with session.begin():
        task = await load_task(session, identity, task_id, lock=True)
        if task.status != "suspended":
            raise conflict("not_suspended", "status", "suspended", "任务未中止计时 (the clock is running)")
        require_actor(task, identity)
        suspension = await session.scalar(
            sa.select(Suspension).where(Suspension.task_id == task.id, Suspension.ended_at.is_(None))
        )
        assert suspension is not None, "a suspended task has an open suspension"
        today = china_date(now)
        days = days_between(default_calendar(), suspension.started_date, today, task.limit_unit)
        suspension.ended_at, suspension.ended_date, suspension.ended_by = now, today, identity.client_id
        suspension.days = days
        task.status, task.suspended_days = "received", task.suspended_days + days
        _move_deadline(task, await _open_subtasks(session, task))
        assert task.deadline_date is not None
        audit.record_task(
            session,
            task,
            action="resumed",
            actor=identity,
            at=now,
            reason=body.note,
            suspended_days=days,
            deadline_date=task.deadline_date,
        )
        data = TaskResumed(
            task_id=task.id,
            application_id=task.application_id,
            case_number=task.case_number,
            department_code=task.department_code,
            resumed_on=today,
            suspended_days=days,
            deadline_date=task.deadline_date,
        )
        await emit(session, "backoffice.task.resumed", task.application_id, data)
    return task


async def extend(
    session: AsyncSession, identity: Identity, task_id: str, body: ExtendRequest, now: datetime
) -> Task:
    """延期: allowed where the legal limit leaves room beyond the promised one, with a reason."""
    async with session.begin():
        task = await load_task(session, identity, task_id, lock=True)
        require_status(task, "received", "suspended")
        require_actor(task, identity)
        room = extension_room(
            task.limit_days, task.limit_unit, task.legal_limit_days, task.legal_limit_unit, task.extended_days
        )
        if body.days > room:
            raise invalid(
                "days",
                "within_legal_limit",
                f"最多可延长 {room} {task.limit_unit} (the legal limit allows {room} more)",
            )
        task.extended_days += body.days
        _move_deadline(task, await _open_subtasks(session, task))
        assert task.deadline_date is not None
        audit.record_task(
            session,
            task,
            action="extended",
            actor=identity,
            at=now,
            reason=body.reason,
            days=body.days,
            deadline_date=task.deadline_date,
        )
        data = TaskExtended(
            task_id=task.id,
            application_id=task.application_id,
            case_number=task.case_number,
            department_code=task.department_code,
            days=body.days,
            reason=body.reason,
            actor=identity.client_id,
            deadline_date=task.deadline_date,
        )
        await emit(session, "backoffice.task.extended", task.application_id, data)
    return task
