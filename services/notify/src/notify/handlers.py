"""Notify consumers: every trigger event becomes messages; read models of cases and item names.

Handlers only write rows (status `created`, or `delivered` for the in-app inbox) in the
consumer's transaction; the dispatcher in the worker sends them, so a slow provider never holds
up the Kafka consumer. Replaying an event changes nothing (inbox row + unique message key).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.catalog import ItemPublished
from contracts.envelope import Event
from contracts.intake import ApplicationAccepted
from contracts.registry import topic_for
from notify.clock import Clock, utc_now
from notify.fanout import handle_event
from notify.models import CaseRecipient, ItemName, ParkedEvent
from notify.triggers import live_event_types
from servicekit.worker import Subscribe

Handler = Callable[[AsyncSession, Event], Awaitable[None]]


async def record_case(session: AsyncSession, data: ApplicationAccepted) -> None:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    await session.execute(
        insert(CaseRecipient)
        .values(
            case_number=data.case_number,
            application_id=data.application_id,
            applicant_id=data.applicant_id.upper(),
            applicant_name=data.applicant_name,
            item_id=data.item_id,
            department_code=data.department_code,
        )
        .on_conflict_do_nothing()
    )


async def item_published(session: AsyncSession, event: Event) -> None:
    data = ItemPublished.model_validate(event.data)
    known = await session.get(ItemName, data.item_id)
    if known is None:
        session.add(ItemName(item_id=data.item_id, version=data.version, name=data.name))
    elif known.version <= data.version:
        known.version, known.name = data.version, data.name


def make_handlers(clock: Clock = utc_now) -> dict[str, Handler]:
    """Handlers by event type; tests pass their own clock."""

    async def on_event(session: AsyncSession, event: Event) -> None:
        await handle_event(session, event, clock())

    async def on_accepted(session: AsyncSession, event: Event) -> None:
        data = ApplicationAccepted.model_validate(event.data)
        await record_case(session, data)
        await handle_event(session, event, clock())
        # Events about this case that arrived before it (topics are not ordered among each other).
        parked = await session.scalars(
            sa.select(ParkedEvent).where(ParkedEvent.case_number == data.case_number)
        )
        for row in list(parked):
            await session.delete(row)
            await handle_event(session, Event.model_validate(row.envelope), clock())

    handlers: dict[str, Handler] = {t: on_event for t in live_event_types()}
    handlers["intake.application.accepted"] = on_accepted
    handlers["catalog.item.published"] = item_published
    return handlers


HANDLERS = make_handlers()
TOPICS = sorted({topic_for(t) for t in HANDLERS})

SUBSCRIPTIONS = [Subscribe(group="notify", topics=TOPICS, handlers=HANDLERS)]
