"""Back-office consumers: the item read model from `catalog.items`, a task per accepted application.

An application can arrive before its item version: the two topics are not ordered against each
other. The handler then raises `UnknownItemVersion`, an ordinary (retried) error, not a
`PermanentError`: the consumer retries with back-off while the separate `backoffice-catalog` group
catches up, and only after its last attempt puts the record on `intake.applications.dlq` with
the reason. Nothing is written meanwhile, and replaying the DLQ record later creates the task.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from workcalendar import default_calendar

from backoffice import audit
from backoffice.deadlines import china_date, subtask_due, task_deadline
from backoffice.events import emit
from backoffice.lapses import intake_terminated
from backoffice.models import CatalogItem, Subtask, Task
from contracts.backoffice import TaskReceived
from contracts.catalog import ItemPublished, ItemRetired
from contracts.envelope import Event
from contracts.intake import ApplicationAccepted
from contracts.topics import CATALOG_ITEMS, INTAKE_APPLICATIONS
from servicekit.worker import Subscribe


class UnknownItemVersion(LookupError):
    """The item version an application names has not reached this service's read model (yet)."""


async def item_published(session: AsyncSession, event: Event) -> None:
    data = ItemPublished.model_validate(event.data)
    values = {
        "name": data.name,
        "department_code": data.department_code,
        "handling_type": data.handling_type,
        "deciding_department": data.deciding_department,
        "joint_departments": list(data.joint_departments),
        "promised_limit_days": data.promised_limit_days,
        "promised_limit_unit": data.promised_limit_unit,
        "legal_limit_days": data.legal_limit_days,
        "legal_limit_unit": data.legal_limit_unit,
        "steps": [s.model_dump() for s in data.steps],
        "result_name": data.result_name,
        "result_certificate_type": data.result_certificate_type,
    }
    existing = await session.get(CatalogItem, (data.item_id, data.version))
    if existing is None:
        session.add(CatalogItem(item_id=data.item_id, version=data.version, effective_to=None, **values))
    else:  # a replayed or re-published version: the event is the truth
        for key, value in values.items():
            setattr(existing, key, value)


async def item_retired(session: AsyncSession, event: Event) -> None:
    data = ItemRetired.model_validate(event.data)
    # Cases accepted before the retirement are still decided on this version's terms.
    await session.execute(
        sa.update(CatalogItem)
        .where(CatalogItem.item_id == data.item_id, CatalogItem.version == data.version)
        .values(effective_to=data.effective_to)
    )


def _received(task: Task, assisting: list[str]) -> TaskReceived:
    assert task.deadline_date is not None
    return TaskReceived(
        task_id=task.id,
        application_id=task.application_id,
        case_number=task.case_number,
        item_id=task.item_id,
        item_version=task.item_version,
        department_code=task.department_code,
        handling_type=task.handling_type,
        assisting_departments=assisting,
        limit_days=task.limit_days,
        limit_unit=task.limit_unit,
        deadline_date=task.deadline_date,
        received_at=task.received_at,
    )


async def _rerouted(session: AsyncSession, task: Task, department_code: str, now: datetime) -> None:
    """Intake routed a returned case again: the new department gets it, the clock kept running."""
    task.department_code, task.status, task.assignee, task.claimed_at = (
        department_code,
        "received",
        None,
        None,
    )
    audit.record(
        session,
        subject_kind="task",
        subject_id=task.id,
        action="rerouted",
        actor=audit.SYSTEM,
        at=now,
        application_id=task.application_id,
        department_code=department_code,
    )
    assisting = list(
        await session.scalars(sa.select(Subtask.department_code).where(Subtask.task_id == task.id))
    )
    await emit(session, "backoffice.task.received", task.application_id, _received(task, assisting))


def responsible(data: ApplicationAccepted, item: CatalogItem) -> str:
    """The department the task goes to: intake's routing, except that a 上报件 taken in at the district
    department that implements it goes up to its deciding body (e.g. a municipal bureau)."""
    if (
        item.handling_type == "上报件"
        and item.deciding_department
        and data.department_code == item.department_code
    ):
        return item.deciding_department
    return data.department_code


async def application_accepted(session: AsyncSession, event: Event) -> None:
    data = ApplicationAccepted.model_validate(event.data)
    now = datetime.now(UTC)
    existing = await session.scalar(sa.select(Task).where(Task.application_id == data.application_id))
    if existing is not None:
        if existing.status == "returned" and existing.department_code != data.department_code:
            await _rerouted(session, existing, data.department_code, now)
        return  # otherwise the same application re-sent under a new event id
    item = await session.get(CatalogItem, (data.item_id, data.item_version))
    if item is None:
        raise UnknownItemVersion(
            f"事项 {data.item_id} v{data.item_version} 尚未同步 (unknown item version: catalog.items has not "
            f"delivered it; replay this record once it has) application {data.application_id}"
        )
    calendar = default_calendar()
    department = responsible(data, item)
    accepted = china_date(data.accepted_at)
    unit, limit = item.promised_limit_unit, item.promised_limit_days
    task = Task(
        id=uuid.uuid4().hex,
        application_id=data.application_id,
        case_number=data.case_number,
        item_id=item.item_id,
        item_version=item.version,
        item_name=item.name,
        handling_type=item.handling_type,
        department_code=department,
        applicant_kind=data.applicant_kind,
        applicant_id=data.applicant_id,
        applicant_name=data.applicant_name,
        status="received",
        received_at=now,
        accepted_at=data.accepted_at,
        accepted_date=accepted,
        limit_days=limit,
        limit_unit=unit,
        legal_limit_days=item.legal_limit_days,
        legal_limit_unit=item.legal_limit_unit,
        suspended_days=0,
        extended_days=0,
        deadline_date=task_deadline(calendar, accepted, limit, 0, 0, unit),
        steps=item.steps,
        result_name=item.result_name,
        certificate_type=item.result_certificate_type,
    )
    session.add(task)
    await session.flush()  # the sub-tasks reference it
    assisting = [d for d in dict.fromkeys(item.joint_departments) if d != department]
    due = subtask_due(calendar, accepted, limit, 0, 0, unit)
    for department in assisting:
        session.add(
            Subtask(
                id=uuid.uuid4().hex,
                task_id=task.id,
                department_code=department,
                status="open",
                due_date=due,
                created_at=now,
            )
        )
    audit.record_task(
        session,
        task,
        action="received",
        actor=audit.SYSTEM,
        at=now,
        deadline_date=task.deadline_date,
        assisting=assisting,
    )
    await emit(session, "backoffice.task.received", task.application_id, _received(task, assisting))


SUBSCRIPTIONS = [
    # Two groups, so the item read model keeps flowing while an early application is retried.
    Subscribe(
        group="backoffice",
        topics=[INTAKE_APPLICATIONS.name],
        handlers={
            "intake.application.accepted": application_accepted,
            "intake.application.terminated": intake_terminated,
        },
    ),
    Subscribe(
        group="backoffice-catalog",
        topics=[CATALOG_ITEMS.name],
        handlers={"catalog.item.published": item_published, "catalog.item.retired": item_retired},
    ),
]
