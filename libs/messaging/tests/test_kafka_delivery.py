"""Outbox -> relay -> real Kafka -> idempotent consumer, on real PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import replace

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from messaging.consumer import EventConsumer, Handler, RetryPolicy
from messaging.kafka import KafkaTransport
from messaging.records import Record
from messaging.relay import OutboxRelay
from servicekit.db import make_sessionmaker

from .support import (
    EVENT_TYPE,
    as_record,
    count_received,
    make_event,
    read_one,
    record_receipt,
    wait_until,
    write_note_with_event,
)


@contextlib.asynccontextmanager
async def running(*runners: OutboxRelay | EventConsumer) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(r.run(stop)) for r in runners]
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)


def consumer_for(
    kafka: KafkaTransport,
    engine: AsyncEngine,
    topic: str,
    handler: Handler = record_receipt,
    batch_size: int = 200,
) -> EventConsumer:
    """The consuming service's consumer; its group is `tests-consumer-<topic>`."""
    return EventConsumer(
        "tests-consumer",
        kafka.subscription(f"tests-consumer-{topic}", [topic]),
        make_sessionmaker(engine),
        {EVENT_TYPE: handler},
        kafka.producer(),
        retry=RetryPolicy(attempts=3, first_delay_s=0.01),
        batch_size=batch_size,
    )


async def test_committed_event_arrives_and_rolled_back_one_never_does(
    kafka: KafkaTransport, producer_engine: AsyncEngine, consumer_engine: AsyncEngine, topic: str
) -> None:
    await kafka.ensure_topics([topic])
    sessions = make_sessionmaker(producer_engine)
    async with sessions() as session:
        rolled_back = await write_note_with_event(session, topic, commit=False)
        committed = await write_note_with_event(session, topic)
    relay = OutboxRelay(producer_engine, kafka.producer())
    consumer = consumer_for(kafka, consumer_engine, topic)
    async with running(relay, consumer):
        await wait_until(lambda: _received_at_least(consumer_engine, 1))
        # a later write is picked up by LISTEN/NOTIFY while the relay idles
        async with sessions() as session:
            await write_note_with_event(session, topic)
        await wait_until(lambda: _received_at_least(consumer_engine, 2))
    assert await count_received(consumer_engine) == (2, 2)
    assert relay.published == 2
    assert rolled_back.id != committed.id


async def test_the_same_event_delivered_twice_is_handled_once(
    kafka: KafkaTransport, consumer_engine: AsyncEngine, topic: str
) -> None:
    await kafka.ensure_topics([topic])
    record = as_record(topic, make_event())
    producer = kafka.producer()
    await producer.send_batch([record, record])
    await producer.send_batch([Record(topic=topic, key=b"k", value=b"{}", headers=(("ce_id", b"x"),))])
    consumer = consumer_for(kafka, consumer_engine, topic)
    async with running(consumer):
        await wait_until(lambda: _settled(consumer, 3))
    await producer.stop()
    assert await count_received(consumer_engine) == (1, 1)
    assert consumer.duplicates == 1


async def test_a_malformed_record_goes_to_the_dlq_and_the_next_one_is_handled(
    kafka: KafkaTransport, kafka_bootstrap: str, consumer_engine: AsyncEngine, topic: str
) -> None:
    await kafka.ensure_topics([topic])
    good = make_event()
    record = as_record(topic, good)
    producer = kafka.producer()
    await producer.send_batch([replace(record, key=b"poison", value=b"\xff not json"), record])
    await producer.stop()
    consumer = consumer_for(kafka, consumer_engine, topic)
    async with running(consumer):
        await wait_until(lambda: _received_at_least(consumer_engine, 1))
    assert consumer.dead_lettered == 1
    message = await read_one(kafka_bootstrap, f"{topic}.dlq")
    found = {k: v.decode() for k, v in message.headers}
    assert message.value == b"\xff not json"
    assert found["dlq_original_topic"] == topic
    assert found["dlq_original_offset"] == "0"
    assert "unreadable record" in found["dlq_error"]
    assert found["ce_id"] == good.id


async def test_kcat_reads_the_cloudevents_attributes(
    kafka: KafkaTransport, kafka_bootstrap: str, producer_engine: AsyncEngine, topic: str
) -> None:
    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    assert kcat, "kcat is not installed: apt-get install kcat (.ci/run installs it)"
    await kafka.ensure_topics([topic])
    async with make_sessionmaker(producer_engine)() as session:
        event = await write_note_with_event(session, topic)
    relay = OutboxRelay(producer_engine, kafka.producer())
    async with running(relay):
        await wait_until(lambda: _published(relay, 1))
    out = await asyncio.to_thread(
        subprocess.run,
        [kcat, "-b", kafka_bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%k|%h|%s\n"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    key, headers, value = out.stdout.strip().split("|", 2)
    assert key == event.subject
    attrs = dict(h.split("=", 1) for h in headers.split(","))
    assert attrs["ce_id"] == event.id
    assert attrs["ce_type"] == EVENT_TYPE
    assert attrs["ce_source"] == "/tests"
    assert attrs["ce_specversion"] == "1.0"
    assert attrs["content-type"] == "application/json"
    assert '"item_id"' in value


async def _received_at_least(engine: AsyncEngine, n: int) -> bool:
    rows, _ = await count_received(engine)
    return rows >= n


async def _settled(consumer: EventConsumer, n: int) -> bool:
    return consumer.handled + consumer.duplicates + consumer.dead_lettered >= n


async def _published(relay: OutboxRelay, n: int) -> bool:
    return relay.published >= n


async def test_a_send_beyond_one_record_batch_arrives_whole_in_order_on_the_partitions_send_picks(
    kafka: KafkaTransport, kafka_bootstrap: str, topic: str
) -> None:
    await kafka.ensure_topics([topic], partitions=3)
    body = "受理" * 300  # ~1.8 kB a record: 1,200 records fill several 512 kB record batches
    records = [
        Record(topic=topic, key=f"case-{n % 7}".encode(), value=f"{n} {body}".encode()) for n in range(1200)
    ]
    producer = kafka.producer()
    await producer.send_batch(records)
    await producer.stop()
    # aiokafka's own send() is the reference for where a key belongs.
    reference = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await reference.start()
    try:
        expected = {
            f"case-{k}".encode(): (
                await (await reference.send(topic, b"x", key=f"case-{k}".encode()))
            ).partition
            for k in range(7)
        }
    finally:
        await reference.stop()
    reader = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await reader.start()
    got: dict[bytes, list[int]] = {}
    try:
        while sum(len(v) for v in got.values()) < 1200:
            for tp, messages in (await asyncio.wait_for(reader.getmany(timeout_ms=1000), 30)).items():
                for message in messages:
                    assert message.key is not None
                    assert message.value is not None
                    assert tp.partition == expected[message.key]
                    if message.value != b"x":
                        got.setdefault(message.key, []).append(int(message.value.split(b" ", 1)[0]))
    finally:
        await reader.stop()
    assert got == {f"case-{k}".encode(): list(range(k, 1200, 7)) for k in range(7)}
