"""The relay's wake-ups on real PostgreSQL: NOTIFY only while a relay waits, and no row left behind."""

from __future__ import annotations

import asyncio
import time
from functools import partial

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from messaging.inprocess import InProcessBroker
from messaging.outbox import add_event
from messaging.relay import OutboxRelay
from messaging.wakeup import CONDITIONAL_NOTIFY_SQL, NOTIFY_CHANNEL, TRIGGER_SQL, WAKE_LOCK
from servicekit.db import make_sessionmaker

from .support import make_event, note, wait_until, write_note_with_event
from .test_kafka_delivery import running

TOPIC = "bus.wakeup"


async def with_conditional_trigger(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.exec_driver_sql(CONDITIONAL_NOTIFY_SQL)
        await conn.exec_driver_sql(TRIGGER_SQL)


def dsn(engine: AsyncEngine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


async def write(engine: AsyncEngine, n: int) -> None:
    async with make_sessionmaker(engine)() as session:
        for _ in range(n):
            await write_note_with_event(session, TOPIC)


async def test_inserts_notify_only_while_someone_holds_the_wake_lock(producer_engine: AsyncEngine) -> None:
    await with_conditional_trigger(producer_engine)
    listener = await asyncpg.connect(dsn(producer_engine))
    relay_side = await asyncpg.connect(dsn(producer_engine))
    heard: list[str] = []
    await listener.add_listener(NOTIFY_CHANNEL, lambda *args: heard.append(args[2]))
    try:
        await write(producer_engine, 5)  # no relay waits: these commit without the NOTIFY lock
        await asyncio.sleep(0.3)
        assert heard == []
        await relay_side.execute("SELECT pg_advisory_lock($1)", WAKE_LOCK)
        await write(producer_engine, 2)
        await wait_until(lambda: _true(len(heard) == 2), timeout_s=5)
        await relay_side.execute("SELECT pg_advisory_unlock($1)", WAKE_LOCK)
        await write(producer_engine, 3)
        await asyncio.sleep(0.3)
        assert len(heard) == 2
    finally:
        await listener.close()
        await relay_side.close()


async def test_an_idle_relay_is_woken_by_notify_and_a_busy_one_is_not_notified(
    producer_engine: AsyncEngine,
) -> None:
    await with_conditional_trigger(producer_engine)
    listener = await asyncpg.connect(dsn(producer_engine))
    heard: list[str] = []
    await listener.add_listener(NOTIFY_CHANNEL, lambda *args: heard.append(args[2]))
    broker = InProcessBroker()
    # A long linger keeps the woken relay busy (and not waiting) for a second.
    relay = OutboxRelay(producer_engine, broker.producer(), poll_interval_s=120, linger_s=1.0)
    try:
        async with running(relay):
            # The relay finds nothing and waits, holding the wake lock.
            await wait_until(partial(_wake_lock_held, listener), timeout_s=10, interval_s=0.005)
            started = time.monotonic()
            await write(producer_engine, 1)  # NOTIFYs: the relay waits
            await wait_until(lambda: _true(len(heard) == 1), timeout_s=5, interval_s=0.005)
            # Woken, the relay lets go of the lock and lingers.
            await wait_until(partial(_wake_lock_free, listener), timeout_s=5, interval_s=0.005)
            await write(producer_engine, 1)  # no relay waits: no NOTIFY
            await wait_until(partial(_published, relay, 2), timeout_s=10, interval_s=0.005)
            assert time.monotonic() - started < 5  # a poll would have taken 120 s
            await asyncio.sleep(0.2)
    finally:
        await listener.close()
    assert len(heard) == 1
    assert len(broker.logs[TOPIC]) == 2


async def test_a_row_committed_without_notify_while_the_relay_settles_is_still_published(
    producer_engine: AsyncEngine,
) -> None:
    """A writer holds the wake lock shared, so it will not NOTIFY, while the relay runs dry: the
    relay cannot arm, polls briefly, and publishes the row soon after the writer commits."""
    await with_conditional_trigger(producer_engine)
    listener = await asyncpg.connect(dsn(producer_engine))
    heard: list[str] = []
    await listener.add_listener(NOTIFY_CHANNEL, lambda *args: heard.append(args[2]))
    broker = InProcessBroker()
    relay = OutboxRelay(producer_engine, broker.producer(), poll_interval_s=120)
    event = make_event()
    try:
        async with make_sessionmaker(producer_engine)() as session:
            await session.begin()
            await session.execute(note.insert().values(id=event.subject, body="事项已废止"))
            await add_event(session, event, topic=TOPIC)
            async with running(relay):
                await asyncio.sleep(0.5)  # the relay keeps trying to arm: this transaction holds it off
                assert relay.published == 0
                started = time.monotonic()
                await session.commit()
                await wait_until(partial(_published, relay, 1), timeout_s=10, interval_s=0.005)
                assert time.monotonic() - started < 2  # a poll would have taken 120 s
                await asyncio.sleep(0.2)
    finally:
        await listener.close()
    assert heard == []  # published without any NOTIFY
    assert [r.header("ce_id") for r in broker.logs[TOPIC]] == [event.id]


async def _true(value: bool) -> bool:
    return value


async def _published(relay: OutboxRelay, n: int) -> bool:
    return relay.published >= n


async def _wake_lock_free(conn: asyncpg.Connection) -> bool:
    if not await conn.fetchval("SELECT pg_try_advisory_lock_shared($1)", WAKE_LOCK):
        return False
    await conn.execute("SELECT pg_advisory_unlock_shared($1)", WAKE_LOCK)
    return True


async def _wake_lock_held(conn: asyncpg.Connection) -> bool:
    return not await _wake_lock_free(conn)
