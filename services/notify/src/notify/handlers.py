"""Notify consumers: the 受理 notice for every accepted application, into the citizen's inbox.

SMS (Kannel), email (SMTP) and app push with delivery tracking arrive with the notify issue; until
then messages are kept in the in-app inbox channel, which needs no provider.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import Event
from contracts.intake import ApplicationAccepted
from contracts.topics import INTAKE_APPLICATIONS
from notify.models import Message
from servicekit.worker import Subscribe

ACCEPTED_TEMPLATE = (
    "application_accepted",
    1,
    "您的{item}申请已受理，办件编号{case_number}。【婺城政务服务】",
)


async def application_accepted(session: AsyncSession, event: Event) -> None:
    data = ApplicationAccepted.model_validate(event.data)
    name, version, text = ACCEPTED_TEMPLATE
    session.add(
        Message(
            id=uuid.uuid4().hex,
            event_id=event.id,
            template=name,
            template_version=version,
            channel="inbox",
            recipient_id=data.applicant_id,
            case_number=data.case_number,
            body=text.format(item=data.item_id, case_number=data.case_number),
            status="delivered",
            created_at=datetime.now(UTC),
        )
    )


SUBSCRIPTIONS = [
    Subscribe(
        group="notify",
        topics=[INTAKE_APPLICATIONS.name],
        handlers={"intake.application.accepted": application_accepted},
    )
]
