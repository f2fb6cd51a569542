"""The in-process transport (embedded mode) keeps the outbox/inbox semantics, on SQLite."""

from __future__ import annotations

from pathlib import Path

from messaging.consumer import EventConsumer
from messaging.inprocess import InProcessBroker
from messaging.records import Record
from messaging.relay import OutboxRelay
from servicekit.db import make_engine, make_sessionmaker

from .support import EVENT_TYPE, count_received, create_tables, record_receipt, write_note_with_event


async def test_uncommitted_records_are_redelivered_after_a_restart_and_handled_once(tmp_path: Path) -> None:
    producer_db = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'producer.db'}")
    consumer_db = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'consumer.db'}")
    await create_tables(producer_db)
    await create_tables(consumer_db)
    broker = InProcessBroker()
    async with make_sessionmaker(producer_db)() as session:
        for _ in range(5):
            await write_note_with_event(session, "bus.test")
        await write_note_with_event(session, "bus.test", commit=False)
    relay = OutboxRelay(producer_db, broker.producer())
    assert await relay.publish_once() == 5
    assert await relay.publish_once() == 0

    def consumer() -> EventConsumer:
        return EventConsumer(
            "tests",
            broker.subscription("tests", ["bus.test"]),
            make_sessionmaker(consumer_db),
            {EVENT_TYPE: record_receipt},
            broker.producer(),
        )

    # First member handles every record but "crashes" before committing offsets.
    first = consumer()
    await first.subscription.start()
    for record in await first.subscription.poll(100, 0.1):
        await first.handle(record)
    assert await count_received(consumer_db) == (5, 5)
    # Its successor starts from the last committed offset (none) and meets the inbox.
    second = consumer()
    await second.subscription.start()
    assert await second.run_batch(timeout_s=0.1) == 5
    assert (second.handled, second.duplicates) == (0, 5)
    assert await second.run_batch(timeout_s=0.05) == 0
    # New events go through in one transaction: SQLite's bulk inbox insert tells new from seen.
    async with make_sessionmaker(producer_db)() as session:
        for _ in range(3):
            await write_note_with_event(session, "bus.test")
    assert await relay.publish_once() == 3
    assert await second.run_batch(timeout_s=0.1) == 3
    assert (second.handled, second.duplicates, second.batches) == (3, 5, 2)
    # A poison record goes to the DLQ topic and does not stop the stream.
    await broker.append([Record(topic="bus.test", key=b"x", value=b"not json")])
    assert await second.run_batch(timeout_s=0.1) == 1
    assert second.dead_lettered == 1
    assert len(broker.logs["bus.test.dlq"]) == 1
    assert await count_received(consumer_db) == (8, 8)
    await producer_db.dispose()
    await consumer_db.dispose()
