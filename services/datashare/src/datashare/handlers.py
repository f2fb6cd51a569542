"""Datashare consumers: certificates issued by back-office decisions become available for sharing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.backoffice import TaskDecided
from contracts.datashare import CertificateRegistered
from contracts.envelope import Event, new_event
from contracts.topics import BACKOFFICE_TASKS
from datashare.models import Certificate
from messaging.consumer import PermanentError
from messaging.outbox import add_event
from servicekit.worker import Subscribe


async def task_decided(session: AsyncSession, event: Event) -> None:
    data = TaskDecided.model_validate(event.data)
    if data.decision != "approved" or data.certificate_type is None:
        return
    if data.certificate_number is None or data.subject_id is None:
        raise PermanentError("an approved decision with a certificate type must name its number and subject")
    known = await session.scalar(
        sa.select(Certificate.id).where(
            Certificate.certificate_type == data.certificate_type,
            Certificate.number == data.certificate_number,
        )
    )
    if known is not None:
        return
    certificate = Certificate(
        id=uuid.uuid4().hex,
        certificate_type=data.certificate_type,
        number=data.certificate_number,
        subject_id=data.subject_id,
        issuer_code=data.department_code,
        issued_on=data.decided_at.date(),
        valid_until=data.valid_until,
        status="valid",
        registered_at=datetime.now(UTC),
    )
    session.add(certificate)
    registered = CertificateRegistered(
        certificate_id=certificate.id,
        certificate_type=certificate.certificate_type,
        number=certificate.number,
        subject_id=certificate.subject_id,
        issuer_code=certificate.issuer_code,
        issued_on=certificate.issued_on,
        valid_until=certificate.valid_until,
    )
    await add_event(
        session,
        new_event(
            type="datashare.certificate.registered",
            source="/datashare",
            subject=certificate.id,
            data=registered,
            requestid=event.requestid,
        ),
    )


SUBSCRIPTIONS = [
    Subscribe(
        group="datashare", topics=[BACKOFFICE_TASKS.name], handlers={"backoffice.task.decided": task_decided}
    )
]
