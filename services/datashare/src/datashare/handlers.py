"""Datashare consumers: certificates from back-office decisions, access rules from published items."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.backoffice import TaskDecided
from contracts.catalog import ItemPublished
from contracts.envelope import Event
from contracts.topics import BACKOFFICE_TASKS, CATALOG_ITEMS
from datashare.certificates.service import add_held
from datashare.models import AccessRule, Certificate
from messaging.consumer import PermanentError
from servicekit.worker import Subscribe

# The member that accepts applications for every department (无差别受理) and runs 一证通办.
INTAKE_MEMBER = "intake"


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
        subject_id=data.subject_id.strip().upper(),
        issuer_code=data.department_code,
        issued_on=data.decided_at.date(),
        valid_until=data.valid_until,
        status="valid",
        registered_at=datetime.now(UTC),
        holder_name=None,
        fields=None,
    )
    await add_held(session, certificate)


async def _retire_rules(session: AsyncSession, item_id: str, below_version: int | None = None) -> None:
    condition = [
        AccessRule.item_id == item_id,
        AccessRule.source == "catalog",
        AccessRule.revoked_at.is_(None),
    ]
    if below_version is not None:
        condition.append(AccessRule.item_version < below_version)
    await session.execute(sa.update(AccessRule).where(*condition).values(revoked_at=datetime.now(UTC)))


async def item_published(session: AsyncSession, event: Event) -> None:
    """The item's material list is the legal basis: the departments handling it and the intake
    window may fetch the certificate types it names, for that item only. A new version replaces
    the rules of older ones; a retirement revokes nothing, because cases accepted before it are
    still decided under it (operators revoke rules by hand when they must)."""
    data = ItemPublished.model_validate(event.data)
    exists = await session.scalar(
        sa.select(AccessRule.id).where(
            AccessRule.item_id == data.item_id,
            AccessRule.item_version == data.version,
            AccessRule.source == "catalog",
        )
    )
    if exists is not None:
        return  # a redelivered event
    await _retire_rules(session, data.item_id, below_version=data.version)
    consumers = {data.department_code, INTAKE_MEMBER, *data.joint_departments}
    if data.deciding_department:
        consumers.add(data.deciding_department)
    types = {m.certificate_type for m in data.materials if m.certificate_type}
    now = datetime.now(UTC)
    for consumer in sorted(consumers):
        for certificate_type in sorted(types):
            session.add(
                AccessRule(
                    id=uuid.uuid4().hex,
                    consumer_code=consumer[:40],
                    certificate_type=certificate_type[:40],
                    item_id=data.item_id,
                    item_version=data.version,
                    source="catalog",
                    created_at=now,
                    revoked_at=None,
                )
            )


SUBSCRIPTIONS = [
    Subscribe(
        group="datashare",
        topics=[BACKOFFICE_TASKS.name, CATALOG_ITEMS.name],
        handlers={
            "backoffice.task.decided": task_decided,
            "catalog.item.published": item_published,
        },
    )
]
