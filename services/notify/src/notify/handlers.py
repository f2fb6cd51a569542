"""Notify consumers: every trigger event becomes messages; read models of cases and item names.

Handlers only write rows (status `created`, or `delivered` for the in-app inbox) in the
consumer's transaction; the dispatcher in the worker sends them, so a slow provider never holds
up the Kafka consumer. Replaying an event changes nothing (inbox row + unique message key).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.catalog import ItemPublished
from contracts.envelope import Event
from contracts.intake import ApplicationAccepted
from contracts.registry import topic_for
from notify.clock import Clock, utc_now
from notify.fanout import handle_event
from notify.models import CaseRecipient, ItemName, ParkedEvent
from notify.recipients import ITEM_NAMES
from notify.triggers import live_event_types
from servicekit.worker import Subscribe

Handler = Callable[[AsyncSession, Event], Awaitable[None]]
_CASES = cast(sa.Table, CaseRecipient.__table__)
_PARKED = cast(sa.Table, ParkedEvent.__table__)


def _case_values(data: ApplicationAccepted) -> dict[str, str]:
    return {
        "case_number": data.case_number,
        "application_id": data.application_id,
        "applicant_id": data.applicant_id.upper(),
        "applicant_name": data.applicant_name,
        "item_id": data.item_id,
        "department_code": data.department_code,
    }


# PostgreSQL: the case row and the events parked for it in one round trip (both CTEs always run).
_RECORD_AND_UNPARK = sa.text(
    "WITH recorded AS (INSERT INTO case_recipient (case_number, application_id, applicant_id, "
    "applicant_name, item_id, department_code) VALUES (:case_number, :application_id, :applicant_id, "
    ":applicant_name, :item_id, :department_code) ON CONFLICT DO NOTHING), "
    "unparked AS (DELETE FROM parked_event WHERE case_number = :case_number RETURNING parked_at, envelope) "
    "SELECT envelope FROM unparked ORDER BY parked_at"
).columns(envelope=sa.JSON)
_UNPARK = (
    sa.delete(_PARKED)
    .where(_PARKED.c.case_number == sa.bindparam("case_number"))
    .returning(_PARKED.c.parked_at, _PARKED.c.envelope)
)


async def record_case(session: AsyncSession, data: ApplicationAccepted) -> list[Event]:
    """Remember who applied for the case; returns the events about it that came first (parked)."""
    values = _case_values(data)
    if session.get_bind().dialect.name == "postgresql":
        envelopes = list(await session.scalars(_RECORD_AND_UNPARK, values))
    else:
        await session.execute(sqlite.insert(_CASES).values(values).on_conflict_do_nothing())
        rows = sorted((await session.execute(_UNPARK, {"case_number": data.case_number})).all())
        envelopes = [row.envelope for row in rows]
    return [Event.model_validate(envelope) for envelope in envelopes]


async def item_published(session: AsyncSession, event: Event) -> None:
    data = ItemPublished.model_validate(event.data)
    known = await session.get(ItemName, data.item_id)
    if known is None:
        session.add(ItemName(item_id=data.item_id, version=data.version, name=data.name))
    elif known.version <= data.version:
        known.version, known.name = data.version, data.name
    else:
        return  # an older version replayed
    ITEM_NAMES.put(session, data.item_id, data.name)


def make_handlers(clock: Clock = utc_now) -> dict[str, Handler]:
    """Handlers by event type; tests pass their own clock."""

    async def on_event(session: AsyncSession, event: Event) -> None:
        await handle_event(session, event, clock())

    async def on_accepted(session: AsyncSession, event: Event) -> None:
        data = ApplicationAccepted.model_validate(event.data)
        parked = await record_case(session, data)
        await handle_event(session, event, clock(), data.model_dump())
        # Events about this case that arrived before it (topics are not ordered among each other).
        for earlier in parked:
            await handle_event(session, earlier, clock())

    handlers: dict[str, Handler] = {t: on_event for t in live_event_types()}
    handlers["intake.application.accepted"] = on_accepted
    handlers["catalog.item.published"] = item_published
    return handlers


HANDLERS = make_handlers()
TOPICS = sorted({topic_for(t) for t in HANDLERS})

SUBSCRIPTIONS = [Subscribe(group="notify", topics=TOPICS, handlers=HANDLERS)]
