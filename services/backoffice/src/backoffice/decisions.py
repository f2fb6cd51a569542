"""Decisions (办结): approve with the certificate issued, or reject with reason and appeal rights."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from workcalendar import default_calendar

from backoffice import audit
from backoffice.deadlines import china_date, days_between
from backoffice.events import emit
from backoffice.models import CertificateSerial, Subtask, Task
from backoffice.problems import conflict, invalid
from backoffice.schemas import ApproveRequest, RejectRequest
from backoffice.tasks import load_task, require_actor, require_status
from contracts.backoffice import TaskDecided
from servicekit.identity import Identity
from servicekit.problems import Problem

APPEAL_RIGHTS = (
    "如不服本决定，可以自收到本决定之日起六十日内向金华市婺城区人民政府申请行政复议，"
    "或者在六个月内依法向金华市婺城区人民法院提起行政诉讼。"
)
REGION = "330702"


async def next_certificate_number(session: AsyncSession, certificate_type: str, day: date) -> str:
    """Region + year + type + 6-digit serial; the upsert's row lock serialises concurrent issuers."""
    prefix = f"{REGION}{day.year}{certificate_type.upper().replace('_', '')[:12]}"
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    upsert = (
        insert(CertificateSerial)
        .values(prefix=prefix, last=1)
        .on_conflict_do_update(
            index_elements=[CertificateSerial.prefix], set_={"last": CertificateSerial.last + 1}
        )
        .returning(CertificateSerial.last)
    )
    serial = (await session.execute(upsert)).scalar_one()
    if serial > 999_999:
        raise Problem(503, "certificate_serial_exhausted", "证照编号已用尽 Serials exhausted", prefix)
    return f"{prefix}{serial:06d}"


async def _decidable(session: AsyncSession, identity: Identity, task_id: str) -> Task:
    """Locked, still open, this officer's, and with every 协办 department done."""
    task = await load_task(session, identity, task_id, lock=True)
    if task.status == "decided":
        raise conflict(
            "already_decided", "status", "decide_once", f"任务已办结 ({task.decision}); 不能重复决定"
        )
    if task.status == "suspended":
        raise conflict(
            "task_suspended", "status", "resume_first", "任务已中止计时，请先恢复 (resume the task first)"
        )
    require_status(task, "received")
    require_actor(task, identity)
    waiting = list(
        await session.scalars(
            sa.select(Subtask.department_code).where(Subtask.task_id == task.id, Subtask.status == "open")
        )
    )
    if waiting:
        raise conflict(
            "assisting_departments_pending",
            "subtasks",
            "assisting_departments_first",
            f"协办部门尚未办结: {', '.join(sorted(waiting))} (assisting departments must finish first)",
        )
    return task


def _close(task: Task, identity: Identity, now: datetime, decision: str) -> None:
    today = china_date(now)
    assert task.deadline_date is not None
    used = days_between(default_calendar(), task.accepted_date, today, task.limit_unit) - task.suspended_days
    task.status, task.decision = "decided", decision
    task.decided_at, task.decided_date, task.decided_by = now, today, identity.client_id
    task.days_used, task.on_time = max(used, 0), today <= task.deadline_date
    task.assignee = task.assignee or identity.client_id


def decided_event(task: Task) -> TaskDecided:
    """What intake (出件) and datashare (the certificate) need of a decision, or of a termination."""
    assert task.decision is not None
    assert task.decided_at is not None
    return TaskDecided(
        application_id=task.application_id,
        case_number=task.case_number,
        department_code=task.department_code,
        decision=task.decision,
        reason=task.decision_reason,
        certificate_type=task.certificate_type if task.certificate_number else None,
        certificate_number=task.certificate_number,
        subject_id=task.applicant_id if task.certificate_number else None,
        valid_until=task.valid_until,
        decided_at=task.decided_at,
        task_id=task.id,
        item_id=task.item_id,
        result_name=task.result_name if task.decision == "approved" else None,
        appeal_rights=task.appeal_rights,
        actor=task.decided_by,
        on_time=task.on_time,
        days_used=task.days_used,
    )


async def approve(
    session: AsyncSession, identity: Identity, task_id: str, body: ApproveRequest, now: datetime
) -> Task:
    async with session.begin():
        task = await _decidable(session, identity, task_id)
        today = china_date(now)
        if task.certificate_type is None and (body.certificate_number or body.valid_until):
            raise invalid(
                "certificate_number",
                "item_issues_no_certificate",
                "本事项不出具证照 (the item issues no certificate)",
            )
        if body.valid_until is not None and body.valid_until <= today:
            raise invalid("valid_until", "future_date", "有效期须晚于今天 (must be after today)")
        if task.certificate_type is not None and body.certificate_number is not None:
            # Datashare keys certificates by type and number: a second one would never be registered.
            taken = await session.scalar(
                sa.select(Task.case_number).where(
                    Task.certificate_type == task.certificate_type,
                    Task.certificate_number == body.certificate_number,
                )
            )
            if taken is not None:
                raise conflict(
                    "certificate_number_taken",
                    "certificate_number",
                    "unique",
                    f"证照编号已用于办件 {taken} (number already issued)",
                )
        if task.certificate_type is not None:
            task.certificate_number = body.certificate_number or await next_certificate_number(
                session, task.certificate_type, today
            )
            task.valid_until = body.valid_until
        _close(task, identity, now, "approved")
        _record(session, task, identity, now, body.comment)
        await emit(session, "backoffice.task.decided", task.application_id, decided_event(task))
    return task


async def reject(
    session: AsyncSession, identity: Identity, task_id: str, body: RejectRequest, now: datetime
) -> Task:
    async with session.begin():
        task = await _decidable(session, identity, task_id)
        task.decision_reason = body.reason
        task.appeal_rights = body.appeal_rights or APPEAL_RIGHTS
        _close(task, identity, now, "rejected")
        _record(session, task, identity, now, body.reason)
        await emit(session, "backoffice.task.decided", task.application_id, decided_event(task))
    return task


def _record(session: AsyncSession, task: Task, identity: Identity, now: datetime, reason: str | None) -> None:
    audit.record_task(
        session,
        task,
        action=task.decision or "decided",
        actor=identity,
        at=now,
        reason=reason,
        certificate_number=task.certificate_number,
        valid_until=task.valid_until,
        on_time=task.on_time,
        days_used=task.days_used,
    )
