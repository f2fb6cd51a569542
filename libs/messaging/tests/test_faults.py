"""Faults on real Kafka and PostgreSQL: a consumer SIGKILLed mid-batch, a broker stopped mid-stream."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from localinfra.kafka import KafkaBroker
from messaging.kafka import KafkaTransport
from messaging.relay import OutboxRelay
from servicekit.db import make_sessionmaker

from .support import as_record, count_received, make_event, wait_until, write_note_with_event
from .test_kafka_delivery import consumer_for, running

HERE = Path(__file__).parent


async def test_consumer_killed_after_db_commit_before_offset_commit_handles_each_event_once(
    kafka: KafkaTransport, kafka_bootstrap: str, consumer_engine: AsyncEngine, topic: str
) -> None:
    await kafka.ensure_topics([topic], partitions=1)
    producer = kafka.producer()
    await producer.send_batch([as_record(topic, make_event()) for _ in range(20)])
    await producer.stop()
    group = f"tests-consumer-{topic}"
    url = consumer_engine.url.render_as_string(hide_password=False)
    doomed = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / "kill_after_commit.py"),
        kafka_bootstrap,
        url,
        topic,
        group,
        "1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(doomed.communicate(), 120)
    assert doomed.returncode == -9, output.decode()
    # It died right after its first database commit: the whole first batch is in the database,
    # once each, and no offset was committed.
    committed, distinct = await count_received(consumer_engine)
    assert 1 <= committed == distinct <= 20, output.decode()
    # A new member of the same group (consumer_for's) re-reads from the last committed offset
    # (none) and the inbox absorbs the events the dead process had already handled.
    consumer = consumer_for(kafka, consumer_engine, topic)
    async with running(consumer):
        await wait_until(lambda: _settled(consumer, 20), timeout_s=60)
    assert await count_received(consumer_engine) == (20, 20)
    assert consumer.duplicates == committed
    assert consumer.handled == 20 - committed


async def test_broker_stopped_while_events_are_written_then_restarted_loses_and_doubles_nothing(
    kafka_broker: KafkaBroker | None,
    kafka: KafkaTransport,
    producer_engine: AsyncEngine,
    consumer_engine: AsyncEngine,
    topic: str,
) -> None:
    if kafka_broker is None:
        pytest.fail("this test stops the broker: run it against the local broker, not an external one")
    await kafka.ensure_topics([topic])
    relay = OutboxRelay(producer_engine, kafka.producer(), poll_interval_s=0.2)
    consumer = consumer_for(kafka, consumer_engine, topic)
    sessions = make_sessionmaker(producer_engine)
    written: list[str] = []

    async def write(n: int) -> None:
        async with sessions() as session:
            for _ in range(n):
                written.append((await write_note_with_event(session, topic)).id)
                await asyncio.sleep(0.005)

    async with running(relay, consumer):
        await write(100)
        await wait_until(lambda: _received(consumer_engine, 50), timeout_s=60)
        writer = asyncio.create_task(write(200))
        await asyncio.to_thread(kafka_broker.stop)
        await writer  # the business keeps writing while the bus is down
        await asyncio.sleep(1)
        await asyncio.to_thread(kafka_broker.start)
        await wait_until(lambda: _received(consumer_engine, 300), timeout_s=120)
        await asyncio.sleep(2)  # any duplicate would land in this window
    rows, distinct = await count_received(consumer_engine)
    print(
        f"broker restart: written {len(written)}, handled {rows}, distinct {distinct}, "
        f"duplicates absorbed by the inbox {consumer.duplicates}"
    )
    assert (rows, distinct) == (300, 300)


async def _settled(consumer: object, n: int) -> bool:
    return consumer.handled + consumer.duplicates >= n  # type: ignore[attr-defined,no-any-return]


async def _received(engine: AsyncEngine, n: int) -> bool:
    rows, _ = await count_received(engine)
    return rows >= n
