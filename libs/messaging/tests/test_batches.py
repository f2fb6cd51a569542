"""The consumer's batches on real Kafka and PostgreSQL: one poison record, and the order of each key."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from contracts.envelope import Event
from messaging.consumer import EventConsumer, PermanentError
from messaging.kafka import KafkaTransport

from .support import (
    as_record,
    count_received,
    make_event,
    read_one,
    received,
    record_receipt,
    wait_until,
)
from .test_kafka_delivery import consumer_for, running


async def offsets_are(bootstrap: str, group: str, want: dict[int, int]) -> bool:
    """True when `group` has committed exactly `want` (partition -> next offset to read)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        found = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in found.items()} == want


async def test_a_poison_record_in_a_batch_goes_to_the_dlq_and_every_other_record_is_handled_once(
    kafka: KafkaTransport, kafka_bootstrap: str, consumer_engine: AsyncEngine, topic: str
) -> None:
    await kafka.ensure_topics([topic], partitions=1)
    events = [make_event(f"item-{n}") for n in range(11)]
    poison = events[5]

    async def fussy_receipt(session: AsyncSession, event: Event) -> None:
        await record_receipt(session, event)  # written, then rolled back with the whole batch
        if event.id == poison.id:
            raise PermanentError("事项编码不存在")

    producer = kafka.producer()
    await producer.send_batch([as_record(topic, e) for e in events])  # one record batch: one poll
    await producer.stop()
    consumer = consumer_for(kafka, consumer_engine, topic, fussy_receipt)
    async with running(consumer):
        await wait_until(lambda: _settled(consumer, 11))
        await wait_until(lambda: offsets_are(kafka_bootstrap, f"tests-consumer-{topic}", {0: 11}))
    assert consumer.fallbacks == 1  # the batch failed once, as a whole, then went record by record
    assert (consumer.handled, consumer.dead_lettered, consumer.duplicates) == (10, 1, 0)
    assert await count_received(consumer_engine) == (10, 10)
    async with consumer_engine.connect() as conn:
        got = set((await conn.scalars(sa.select(received.c.event_id))).all())
    assert got == {e.id for e in events} - {poison.id}
    dead = await read_one(kafka_bootstrap, f"{topic}.dlq")
    headers = {k: v.decode() for k, v in dead.headers}
    assert headers["ce_id"] == poison.id
    assert headers["dlq_original_offset"] == "5"
    assert headers["dlq_attempts"] == "1"
    assert headers["dlq_error"] == "PermanentError: 事项编码不存在"


async def test_batches_keep_the_order_of_each_key_through_a_retried_failure(
    kafka: KafkaTransport, consumer_engine: AsyncEngine, topic: str
) -> None:
    await kafka.ensure_topics([topic], partitions=3)
    keys = [f"case-{n}" for n in range(8)]
    # Per key: versions 1..10, sent in 5 rounds that interleave the keys, as a relay would.
    events = [make_event(key, version) for version in range(1, 11) for key in keys]
    position = {e.id: (e.subject, int(e.data["version"])) for e in events}
    flaky = events[37]
    failures = 0

    async def flaky_receipt(session: AsyncSession, event: Event) -> None:
        nonlocal failures
        await record_receipt(session, event)
        if event.id == flaky.id and failures < 2:
            failures += 1  # fails in the batch, then once more on its own, then succeeds
            raise RuntimeError("数据库繁忙")

    producer = kafka.producer()
    for start in range(0, len(events), 16):
        await producer.send_batch([as_record(topic, e) for e in events[start : start + 16]])
    await producer.stop()
    consumer = consumer_for(kafka, consumer_engine, topic, flaky_receipt, batch_size=16)
    async with running(consumer):
        await wait_until(lambda: _settled(consumer, len(events)))
    assert failures == 2
    assert consumer.fallbacks == 1
    assert consumer.batches >= 4  # the other polls went through in one transaction each
    assert consumer.dead_lettered == 0
    assert await count_received(consumer_engine) == (80, 80)
    async with consumer_engine.connect() as conn:
        in_handling_order = (await conn.scalars(sa.select(received.c.event_id).order_by(received.c.n))).all()
    versions: dict[str, list[int]] = defaultdict(list)
    for event_id in in_handling_order:
        key, version = position[event_id]
        versions[key].append(version)
    assert versions == {key: list(range(1, 11)) for key in keys}


async def _settled(consumer: EventConsumer, n: int) -> bool:
    return consumer.handled + consumer.duplicates + consumer.dead_lettered >= n
