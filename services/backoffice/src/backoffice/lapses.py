"""Materials never supplied (补正 past its due date, or 容缺 ended by intake): the case ends (终止办理)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from workcalendar import default_calendar

from backoffice import audit
from backoffice.deadlines import china_date, days_between
from backoffice.decisions import APPEAL_RIGHTS, decided_event
from backoffice.events import emit
from backoffice.models import Subtask, Suspension, Task
from contracts.envelope import Event
from contracts.intake import ApplicationTerminated

TERMINATED = "terminated"


def lapse_reason(due: date, materials: list[str]) -> str:
    """The reason as the applicant reads it (the decision's reason reaches them through intake and notify)."""
    what = "、".join(materials) or "补正材料"
    return f"申请人未在{due:%Y年%-m月%-d日}前补正{what}，依法终止办理"


async def _lapsed(session: AsyncSession, today: date) -> list[tuple[Task, Suspension]]:
    """Open 补正 suspensions past their due date, their tasks locked against a resume in flight."""
    rows = await session.execute(
        sa.select(Task, Suspension)
        .join(Suspension, Suspension.task_id == Task.id)
        .where(
            Task.status == "suspended",
            Suspension.kind == "buzheng",
            Suspension.ended_at.is_(None),
            Suspension.due_date < today,
        )
        .order_by(Suspension.due_date, Task.id)
        .with_for_update(of=Task)
    )
    return [(task, suspension) for task, suspension in rows.all()]


async def _close_subtasks(session: AsyncSession, task: Task, now: datetime) -> list[str]:
    """The assisting departments' open parts end with the case: nobody should chase them."""
    open_ones = list(
        await session.scalars(sa.select(Subtask).where(Subtask.task_id == task.id, Subtask.status == "open"))
    )
    for subtask in open_ones:
        subtask.status, subtask.completed_at, subtask.completed_by = "cancelled", now, audit.SYSTEM.client_id
    return sorted(s.department_code for s in open_ones)


async def terminate_lapsed(session: AsyncSession, today: date, now: datetime) -> int:
    """End every case whose 补正 is overdue, inside the caller's transaction; returns how many."""
    calendar = default_calendar()
    count = 0
    for task, suspension in await _lapsed(session, today):
        assert suspension.due_date is not None
        days = days_between(calendar, suspension.started_date, today, task.limit_unit)
        suspension.ended_at, suspension.ended_date, suspension.ended_by = now, today, audit.SYSTEM.client_id
        suspension.days = days
        reason = lapse_reason(suspension.due_date, suspension.materials)
        task.status, task.decision, task.decision_reason = TERMINATED, TERMINATED, reason
        task.appeal_rights = APPEAL_RIGHTS
        task.suspended_days += days
        task.decided_at, task.decided_date, task.decided_by = now, today, audit.SYSTEM.client_id
        # Neither on time nor late: the department never got to decide (statistics count decisions).
        task.on_time = None
        cancelled = await _close_subtasks(session, task, now)
        audit.record_task(
            session,
            task,
            action=TERMINATED,
            actor=audit.SYSTEM,
            at=now,
            reason=reason,
            buzheng_due_date=suspension.due_date,
            materials=suspension.materials,
            suspended_days=days,
            cancelled_subtasks=cancelled,
        )
        await emit(session, "backoffice.task.decided", task.application_id, decided_event(task))
        count += 1
    return count


def rongque_reason(due: date, materials: list[str]) -> str:
    what = "、".join(materials) or "容缺材料"
    return f"申请人未在{due:%Y年%-m月%-d日}前补齐容缺受理时承诺的{what}，窗口已终止办理"


async def intake_terminated(session: AsyncSession, event: Event) -> None:
    """intake.application.terminated: the 容缺 promise was not kept, so intake ended the case; the
    task ends with it (no decision event: intake already told the applicant and closed the case)."""
    data = ApplicationTerminated.model_validate(event.data)
    task = await session.scalar(
        sa.select(Task).where(Task.application_id == data.application_id).with_for_update()
    )
    if task is None or task.decided_at is not None:
        return  # a 即办件 never had a task; a decided task keeps its decision
    now = data.terminated_at
    today = china_date(now)
    reason = rongque_reason(data.due_date, data.materials)
    task.status, task.decision, task.decision_reason = TERMINATED, TERMINATED, reason
    task.appeal_rights = APPEAL_RIGHTS
    task.decided_at, task.decided_date, task.decided_by = now, today, audit.SYSTEM.client_id
    task.on_time = None
    cancelled = await _close_subtasks(session, task, now)
    audit.record_task(
        session,
        task,
        action=TERMINATED,
        actor=audit.SYSTEM,
        at=now,
        reason=reason,
        rongque_due_date=data.due_date,
        materials=data.materials,
        cancelled_subtasks=cancelled,
    )
