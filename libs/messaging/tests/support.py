"""A tiny producing service and consuming service used by the messaging tests (real databases)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from contracts.catalog import ItemRetired
from contracts.envelope import Event, new_event
from messaging.outbox import add_event
from messaging.records import Record, encode
from messaging.tables import metadata as messaging_metadata

test_metadata = sa.MetaData()
note = sa.Table(
    "note",
    test_metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("body", sa.String(200), nullable=False),
)
# Not unique on purpose: a handler that ran twice for one event leaves two rows.
received = sa.Table(
    "received",
    test_metadata,
    sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
)

TOPIC = "catalog.items"
EVENT_TYPE = "catalog.item.retired"


async def create_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(messaging_metadata.create_all)
        await conn.run_sync(test_metadata.create_all)


def make_event(subject: str | None = None, version: int = 1) -> Event:
    subject = subject or f"item-{uuid.uuid4().hex[:8]}"
    data = ItemRetired(item_id=subject, version=version, effective_to="2026-11-25")
    return new_event(type=EVENT_TYPE, source="/tests", subject=subject, data=data)


def as_record(topic: str, event: Event) -> Record:
    """The record the relay would send for `event` (binary mode, keyed by subject)."""
    value, headers = encode(event)
    return Record(topic=topic, key=event.subject.encode(), value=value, headers=tuple(headers))


async def read_one(bootstrap: str, topic: str, timeout_s: float = 20.0) -> ConsumerRecord[bytes, bytes]:
    """The first record of `topic`, read by an independent client without a group."""
    reader = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await reader.start()
    try:
        return await asyncio.wait_for(reader.getone(), timeout_s)
    finally:
        await reader.stop()


async def write_note_with_event(session: AsyncSession, topic: str, *, commit: bool = True) -> Event:
    """The business write and its event in one transaction, committed or rolled back."""
    event = make_event()
    await session.begin()
    await session.execute(note.insert().values(id=event.subject, body="事项已废止"))
    await add_event(session, event, topic=topic)
    if commit:
        await session.commit()
    else:
        await session.rollback()
    return event


async def record_receipt(session: AsyncSession, event: Event) -> None:
    """The consuming service's handler: one row per handling."""
    await session.execute(received.insert().values(event_id=event.id, subject=event.subject))


async def count_received(engine: AsyncEngine) -> tuple[int, int]:
    """(rows, distinct event ids) in the consumer's database."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(sa.select(sa.func.count(), sa.func.count(sa.distinct(received.c.event_id))))
        ).one()
    return int(row[0]), int(row[1])


async def wait_until(
    check: Callable[[], Awaitable[bool]], timeout_s: float = 30.0, interval_s: float = 0.1
) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        await asyncio.sleep(interval_s)
