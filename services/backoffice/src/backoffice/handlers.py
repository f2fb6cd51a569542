"""Back-office consumers: a task for every accepted application on `intake.applications`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.models import Task
from contracts.envelope import Event
from contracts.intake import ApplicationAccepted
from contracts.topics import INTAKE_APPLICATIONS
from servicekit.worker import Subscribe


async def application_accepted(session: AsyncSession, event: Event) -> None:
    data = ApplicationAccepted.model_validate(event.data)
    exists = await session.scalar(sa.select(Task.id).where(Task.application_id == data.application_id))
    if exists is not None:  # the same application re-sent under a new event id
        return
    session.add(
        Task(
            id=uuid.uuid4().hex,
            application_id=data.application_id,
            case_number=data.case_number,
            item_id=data.item_id,
            item_version=data.item_version,
            department_code=data.department_code,
            status="received",
            received_at=datetime.now(UTC),
            deadline_date=None,
        )
    )


SUBSCRIPTIONS = [
    Subscribe(
        group="backoffice",
        topics=[INTAKE_APPLICATIONS.name],
        handlers={"intake.application.accepted": application_accepted},
    )
]
