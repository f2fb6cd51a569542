"""Complaints (投诉, e.g. from the 12345 hotline): tracked cases with a working-day due date."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from workcalendar import default_calendar

from backoffice import audit
from backoffice.deadlines import COMPLAINT_WORKING_DAYS, china_date
from backoffice.events import emit
from backoffice.models import Task
from backoffice.problems import conflict, invalid
from backoffice.supervision_models import Complaint
from backoffice.supervision_schemas import ComplaintCreate
from backoffice.tasks import check_department, known_department, sees_department
from contracts.backoffice import ComplaintAnswered, ComplaintFiled
from servicekit.identity import Identity
from servicekit.problems import not_found


def _audit(
    session: AsyncSession, complaint: Complaint, action: str, identity: Identity, now: datetime, text: str
) -> None:
    audit.record(
        session,
        subject_kind="complaint",
        subject_id=complaint.id,
        action=action,
        actor=identity,
        at=now,
        application_id=complaint.application_id,
        department_code=complaint.department_code,
        reason=text,
    )


async def file(session: AsyncSession, identity: Identity, body: ComplaintCreate, now: datetime) -> Complaint:
    async with session.begin():
        task = None
        if body.application_id is not None:
            task = await session.scalar(sa.select(Task).where(Task.application_id == body.application_id))
            if task is None:
                raise invalid(
                    "application_id", "known_case", f"办件 {body.application_id} 不存在 (unknown case)"
                )
        department = body.department_code or (task.department_code if task else None)
        if department is None:
            raise invalid(
                "department_code", "required", "请指明被投诉部门或办件 (name a department or a case)"
            )
        named_elsewhere = task is None or department != task.department_code
        if named_elsewhere and not await known_department(session, department):
            raise invalid("department_code", "known_department", f"未知部门 {department}")
        today = china_date(now)
        complaint = Complaint(
            id=uuid.uuid4().hex,
            department_code=department,
            channel=body.channel,
            application_id=body.application_id,
            case_number=task.case_number if task else None,
            content=body.content,
            status="open",
            filed_at=now,
            filed_by=identity.client_id,
            due_date=default_calendar().add_working_days(today, COMPLAINT_WORKING_DAYS),
        )
        session.add(complaint)
        _audit(session, complaint, "complaint_filed", identity, now, body.content)
        data = ComplaintFiled(
            complaint_id=complaint.id,
            department_code=department,
            channel=complaint.channel,
            application_id=complaint.application_id,
            case_number=complaint.case_number,
            due_date=complaint.due_date,
            filed_at=now,
        )
        await emit(session, "backoffice.complaint.filed", complaint.id, data)
    return complaint


async def complaint_list(
    session: AsyncSession, identity: Identity, department_code: str, status: str | None, limit: int
) -> list[Complaint]:
    check_department(identity, department_code)
    where = [Complaint.department_code == department_code]
    if status is not None:
        where.append(Complaint.status == status)
    async with session.begin():
        query = (
            sa.select(Complaint).where(*where).order_by(Complaint.due_date, Complaint.filed_at).limit(limit)
        )
        return list(await session.scalars(query))


async def answer(
    session: AsyncSession, identity: Identity, complaint_id: str, text: str, now: datetime
) -> Complaint:
    async with session.begin():
        complaint = await session.scalar(
            sa.select(Complaint).where(Complaint.id == complaint_id).with_for_update()
        )
        if complaint is None or not sees_department(identity, complaint.department_code):
            raise not_found("投诉 complaint", complaint_id)
        if complaint.status != "open":
            raise conflict("already_answered", "status", "answer_once", "投诉已办结 (already answered)")
        today = china_date(now)
        complaint.status, complaint.answer = "answered", text
        complaint.answered_at, complaint.answered_date, complaint.answered_by = now, today, identity.client_id
        _audit(session, complaint, "complaint_answered", identity, now, text)
        data = ComplaintAnswered(
            complaint_id=complaint.id,
            department_code=complaint.department_code,
            on_time=today <= complaint.due_date,
            answered_at=now,
        )
        await emit(session, "backoffice.complaint.answered", complaint.id, data)
    return complaint
