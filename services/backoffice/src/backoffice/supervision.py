"""督查: the periodic sweep: lapsed 补正 end their case, deadlines warn, overdue work escalates, each once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from workcalendar import Calendar, default_calendar

from backoffice import audit
from backoffice.events import emit
from backoffice.lapses import terminate_lapsed
from backoffice.models import Subtask, Task
from backoffice.supervision_models import Complaint, FollowUp, SupervisionAlert
from backoffice.supervision_schemas import SweepResult
from contracts.backoffice import ComplaintEscalated, DeadlineWarned, FollowUpEscalated, TaskEscalated

# Overdue work goes to the department's head and to the hall's supervision office (督查室) at once:
# the report's 督查 watches every late case, not only those a head failed to chase.
ESCALATE_TO = ["department_head", "supervision_office"]


async def _first_time(session: AsyncSession, kind: str, subject_id: str, due: date, today: date) -> bool:
    """Record the alert; False when it was raised before for this due date (a moved deadline is new)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(SupervisionAlert)
        .values(kind=kind, subject_id=subject_id, due_date=due, raised_on=today)
        .on_conflict_do_nothing()
        .returning(SupervisionAlert.subject_id)
    )
    return (await session.execute(stmt)).first() is not None


def _overdue_days(calendar: Calendar, due: date, today: date) -> int:
    # A deadline that passed over a weekend is still overdue, by at least one day.
    return max(calendar.working_days_between(due, today), 1)


def _audit(
    session: AsyncSession,
    subject: Task | FollowUp | Complaint,
    action: str,
    now: datetime,
    **details: Any,
) -> None:
    kind = {Task: "task", FollowUp: "followup", Complaint: "complaint"}[type(subject)]
    audit.record(
        session,
        subject_kind=kind,
        subject_id=subject.id,
        action=action,
        actor=audit.SYSTEM,
        at=now,
        application_id=subject.application_id,
        department_code=subject.department_code,
        **details,
    )


async def _warn(session: AsyncSession, calendar: Calendar, today: date, ahead: int, now: datetime) -> int:
    horizon = calendar.add_working_days(today, ahead)
    rows = await session.scalars(
        sa.select(Task).where(
            Task.status == "received", Task.deadline_date >= today, Task.deadline_date <= horizon
        )
    )
    count = 0
    for task in rows.all():
        assert task.deadline_date is not None
        if not await _first_time(session, "warning", task.id, task.deadline_date, today):
            continue
        left = calendar.working_days_between(today, task.deadline_date)
        _audit(
            session, task, "deadline_warned", now, deadline_date=task.deadline_date, working_days_left=left
        )
        data = DeadlineWarned(
            task_id=task.id,
            application_id=task.application_id,
            case_number=task.case_number,
            department_code=task.department_code,
            assignee=task.assignee,
            deadline_date=task.deadline_date,
            working_days_left=left,
            warned_on=today,
        )
        await emit(session, "backoffice.task.deadline_warned", task.application_id, data)
        count += 1
    return count


async def _escalate(
    session: AsyncSession, task: Task, late: Subtask | None, due: date, today: date, now: datetime
) -> bool:
    """Escalate the lead's task, or (with `late`) one 协办 department's sub-task of it."""
    if not await _first_time(session, "overdue", late.id if late else task.id, due, today):
        return False
    department, role = (late.department_code, "assist") if late else (task.department_code, "lead")
    days = _overdue_days(default_calendar(), due, today)
    _audit(
        session, task, "escalated", now, role=role, late_department=department, deadline_date=due, days=days
    )
    data = TaskEscalated(
        task_id=task.id,
        application_id=task.application_id,
        case_number=task.case_number,
        department_code=department,
        role=role,
        deadline_date=due,
        working_days_overdue=days,
        escalated_to=ESCALATE_TO,
        escalated_on=today,
    )
    await emit(session, "backoffice.task.escalated", task.application_id, data)
    return True


async def _escalate_tasks(session: AsyncSession, today: date, now: datetime) -> int:
    count = 0
    late = await session.scalars(sa.select(Task).where(Task.status == "received", Task.deadline_date < today))
    for task in late.all():
        assert task.deadline_date is not None
        count += await _escalate(session, task, None, task.deadline_date, today, now)
    # A 协办 sub-task's clock stops with its case's: only running cases are chased.
    pairs = await session.execute(
        sa.select(Subtask, Task)
        .join(Task, Task.id == Subtask.task_id)
        .where(Subtask.status == "open", Subtask.due_date < today, Task.status == "received")
    )
    for subtask, task in pairs.all():
        count += await _escalate(session, task, subtask, subtask.due_date, today, now)
    return count


async def _escalate_followups(session: AsyncSession, today: date, now: datetime) -> int:
    count = 0
    rows = await session.scalars(
        sa.select(FollowUp).where(
            FollowUp.status.in_(("open", "visited")),
            sa.or_(
                FollowUp.rectify_due < today, sa.and_(FollowUp.status == "open", FollowUp.visit_due < today)
            ),
        )
    )
    for followup in rows.all():
        stages = [("visit", followup.visit_due)] if followup.status == "open" else []
        for stage, due in [*stages, ("rectify", followup.rectify_due)]:
            if due >= today or not await _first_time(session, f"followup_{stage}", followup.id, due, today):
                continue
            _audit(session, followup, "followup_escalated", now, stage=stage, due_date=due)
            data = FollowUpEscalated(
                followup_id=followup.id,
                application_id=followup.application_id,
                case_number=followup.case_number,
                department_code=followup.department_code,
                stage=stage,
                due_date=due,
                escalated_to=ESCALATE_TO,
                escalated_on=today,
            )
            await emit(session, "backoffice.followup.escalated", followup.application_id, data)
            count += 1
    return count


async def _escalate_complaints(session: AsyncSession, today: date, now: datetime) -> int:
    count = 0
    rows = await session.scalars(
        sa.select(Complaint).where(Complaint.status == "open", Complaint.due_date < today)
    )
    for complaint in rows.all():
        if not await _first_time(session, "complaint", complaint.id, complaint.due_date, today):
            continue
        _audit(session, complaint, "complaint_escalated", now, due_date=complaint.due_date)
        data = ComplaintEscalated(
            complaint_id=complaint.id,
            department_code=complaint.department_code,
            due_date=complaint.due_date,
            escalated_to=ESCALATE_TO,
            escalated_on=today,
        )
        await emit(session, "backoffice.complaint.escalated", complaint.id, data)
        count += 1
    return count


async def sweep(
    session: AsyncSession, today: date, warn_working_days: int, now: datetime | None = None
) -> SweepResult:
    """One pass over everything with a due date, as of `today` (tests pass the day they need)."""
    calendar = default_calendar()
    now = now or datetime.now(UTC)
    async with session.begin():
        # First: a case whose 补正 lapsed is over, not late.
        terminated = await terminate_lapsed(session, today, now)
        warned = await _warn(session, calendar, today, warn_working_days, now)
        escalated = await _escalate_tasks(session, today, now)
        followups = await _escalate_followups(session, today, now)
        complaints = await _escalate_complaints(session, today, now)
    return SweepResult(
        today=today,
        terminated=terminated,
        warned=warned,
        escalated=escalated,
        followups_escalated=followups,
        complaints_escalated=complaints,
    )
