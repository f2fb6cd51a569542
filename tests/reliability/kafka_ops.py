"""Kafka seen from outside the services: consumer-group lag, offset resets, poison records, DLQ contents.

Group administration uses Kafka's admin API (confluent-kafka's AdminClient, librdkafka), the same
requests `kafka-consumer-groups.sh` sends; it runs in a thread because the client is synchronous.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from confluent_kafka import ConsumerGroupTopicPartitions
from confluent_kafka import TopicPartition as AdminPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin import OffsetSpec as _OffsetSpec  # type: ignore[attr-defined]

from messaging.kafka import KafkaConfig, KafkaProducer
from messaging.records import Record

TIMEOUT_S = 15.0
# Re-exported by confluent_kafka.admin without a type: its factory methods are untyped.
OffsetSpec: Any = _OffsetSpec
# Groups the tests themselves create (reading DLQs) are not the platform's.
TEST_GROUP_PREFIX = "reliability-"


def _admin(bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": int(TIMEOUT_S * 1000)})


def _platform_groups(admin: AdminClient) -> list[str]:
    listing = admin.list_consumer_groups(request_timeout=TIMEOUT_S).result()
    return sorted(g.group_id for g in listing.valid if not g.group_id.startswith(TEST_GROUP_PREFIX))


def _partitions_of(admin: AdminClient, group: str) -> list[tuple[str, int, int]]:
    """(topic, partition, committed offset or -1) for every partition of every topic the group reads."""
    request = [ConsumerGroupTopicPartitions(group)]
    committed = admin.list_consumer_group_offsets(request, request_timeout=TIMEOUT_S)[group].result()
    known = {(tp.topic, tp.partition): tp.offset for tp in committed.topic_partitions or []}
    topics = sorted({topic for topic, _ in known})
    metadata = admin.list_topics(timeout=TIMEOUT_S).topics
    return [
        (topic, partition, known.get((topic, partition), -1))
        for topic in topics
        for partition in sorted(metadata[topic].partitions)
    ]


def _offsets(
    admin: AdminClient, partitions: Sequence[tuple[str, int]], spec: Any
) -> dict[tuple[str, int], int]:
    if not partitions:
        return {}
    futures = admin.list_offsets(
        {AdminPartition(t, p): spec for t, p in partitions}, request_timeout=TIMEOUT_S
    )
    return {(tp.topic, tp.partition): future.result().offset for tp, future in futures.items()}


def _lags(bootstrap: str) -> dict[str, int]:
    admin = _admin(bootstrap)
    lags: dict[str, int] = {}
    for group in _platform_groups(admin):
        partitions = _partitions_of(admin, group)
        ends = _offsets(admin, [(t, p) for t, p, _ in partitions], OffsetSpec.latest())
        lags[group] = sum(max(0, ends[(t, p)] - max(0, c)) for t, p, c in partitions)
    return lags


async def group_lags(bootstrap: str) -> dict[str, int]:
    """Records each platform consumer group has not committed yet, by group."""
    return await asyncio.to_thread(_lags, bootstrap)


def _reset(bootstrap: str) -> dict[str, int]:
    admin = _admin(bootstrap)
    rewound: dict[str, int] = {}
    for group in _platform_groups(admin):
        partitions = _partitions_of(admin, group)
        starts = _offsets(admin, [(t, p) for t, p, _ in partitions], OffsetSpec.earliest())
        request = ConsumerGroupTopicPartitions(
            group, [AdminPartition(t, p, starts[(t, p)]) for t, p, _ in partitions]
        )
        admin.alter_consumer_group_offsets([request], request_timeout=TIMEOUT_S)[group].result()
        rewound[group] = sum(max(0, c) - starts[(t, p)] for t, p, c in partitions)
    return rewound


async def rewind_every_group(bootstrap: str) -> dict[str, int]:
    """Set every platform group back to the start of its topics (the groups must have no members).

    Returns how many records each group will read again.
    """
    return await asyncio.to_thread(_reset, bootstrap)


async def produce(bootstrap: str, records: Sequence[Record]) -> None:
    """Send with the platform's own producer (idempotent, acks=all)."""
    producer = KafkaProducer(KafkaConfig(bootstrap_servers=bootstrap, client_id="reliability-tests"))
    try:
        await producer.send_batch(records)
    finally:
        await producer.stop()


def _metadata(bootstrap: str) -> dict[str, list[int]]:
    topics = _admin(bootstrap).list_topics(timeout=TIMEOUT_S).topics
    return {name: sorted(meta.partitions) for name, meta in topics.items()}


async def topic_partitions(bootstrap: str, wanted: Callable[[str], bool]) -> list[TopicPartition]:
    """Every partition of the topics `wanted` accepts, from the broker's metadata."""
    metadata = await asyncio.to_thread(_metadata, bootstrap)
    return [TopicPartition(t, p) for t in sorted(metadata) if wanted(t) for p in metadata[t]]


async def _behind(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return True
    return False


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    key: bytes | None
    consumer: str | None
    error: str | None


async def dead_letters(bootstrap: str) -> list[DeadLetter]:
    """Everything on every `*.dlq` topic, read from the start without a consumer group."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await asyncio.wait_for(consumer.start(), TIMEOUT_S)
    try:
        partitions = await topic_partitions(bootstrap, lambda name: name.endswith(".dlq"))
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[DeadLetter] = []
        async with asyncio.timeout(TIMEOUT_S * 2):
            while await _behind(consumer, ends):
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    for r in records:
                        headers = {k: v.decode("utf-8", "replace") for k, v in r.headers or ()}
                        found.append(
                            DeadLetter(r.topic, r.key, headers.get("dlq_consumer"), headers.get("dlq_error"))
                        )
        return found
    finally:
        await consumer.stop()


def _committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    admin = _admin(bootstrap)
    return {p: c for t, p, c in _partitions_of(admin, group) if t == topic}


def _readers(bootstrap: str, topic: str) -> list[str]:
    admin = _admin(bootstrap)
    return [g for g in _platform_groups(admin) if any(t == topic for t, _, _ in _partitions_of(admin, g))]


async def groups_reading(bootstrap: str, topic: str) -> list[str]:
    """The platform consumer groups that have committed offsets on `topic`."""
    return await asyncio.to_thread(_readers, bootstrap, topic)


async def uncommitted_event_ids(bootstrap: str, group: str, topic: str) -> list[str]:
    """CloudEvent ids of the records on `topic` past `group`'s committed offsets (what it reads next)."""
    committed = await asyncio.to_thread(_committed, bootstrap, group, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await asyncio.wait_for(consumer.start(), TIMEOUT_S)
    try:
        partitions = await topic_partitions(bootstrap, lambda name: name == topic)
        assert partitions, f"topic {topic} has no partitions"
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, max(0, committed.get(tp.partition, 0)))
        ends = await consumer.end_offsets(partitions)
        ids: list[str] = []
        async with asyncio.timeout(TIMEOUT_S * 2):
            while await _behind(consumer, ends):
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    ids += [v.decode() for r in records for k, v in r.headers or () if k == "ce_id"]
        return ids
    finally:
        await consumer.stop()
