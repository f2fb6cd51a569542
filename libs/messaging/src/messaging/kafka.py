"""The Kafka transport on aiokafka: idempotent acks=all producer, manual-commit consumer group."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, KafkaError, TopicAlreadyExistsError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder

from messaging.records import Record
from messaging.transport import Offsets, TransportError

log = logging.getLogger(__name__)
# The partitioner `send()` uses by default: keyed records land where other producers put them.
_PARTITIONER = DefaultPartitioner()


@dataclass(frozen=True)
class KafkaConfig:
    bootstrap_servers: str
    client_id: str = "zuiduo"
    # aiokafka can hang forever in send/stop/commit while the broker is down (aiokafka#1101),
    # so every call is bounded by one of these.
    send_timeout_s: float = 10.0
    stop_timeout_s: float = 5.0
    commit_timeout_s: float = 10.0
    # The relay already sends whole batches: lingering only added ~5 ms per round (bench/bus.py).
    linger_ms: int = 0
    # One relay round (500 rows of ~1 kB) fits a record batch per partition; the broker's own
    # limit (message.max.bytes) is 1 MiB.
    max_batch_size: int = 512 * 1024


class KafkaProducer:
    """Sends batches and waits for every ack; recreated after a failure (aiokafka#1017)."""

    def __init__(self, config: KafkaConfig) -> None:
        self._config = config
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        await self._ensure()

    async def _ensure(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self._config.bootstrap_servers,
                client_id=self._config.client_id,
                acks="all",
                enable_idempotence=True,
                linger_ms=self._config.linger_ms,
                max_batch_size=self._config.max_batch_size,
                request_timeout_ms=int(self._config.send_timeout_s * 1000),
            )
            try:
                await asyncio.wait_for(producer.start(), self._config.send_timeout_s)
            except (TimeoutError, KafkaError, OSError) as exc:
                await self._close(producer)
                raise TransportError(f"Kafka producer could not start: {exc!r}") from exc
            self._producer = producer
        return self._producer

    async def _close(self, producer: AIOKafkaProducer) -> None:
        try:
            await asyncio.wait_for(producer.stop(), self._config.stop_timeout_s)
        except (TimeoutError, KafkaError, OSError) as exc:
            log.warning("kafka producer stop did not finish cleanly: %r", exc)

    async def stop(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await self._close(producer)

    async def send_batch(self, records: Sequence[Record]) -> None:
        producer = await self._ensure()
        try:
            async with asyncio.timeout(self._config.send_timeout_s):
                # Whole record batches per partition, not one send() per record: send() makes a
                # future and an accumulator round per record, several times the CPU (aiokafka#528).
                acks = []
                for (topic, partition), group in (await _by_partition(producer, records)).items():
                    builder = producer.create_batch()
                    for record in group:
                        if not _append(builder, record):
                            acks.append(await producer.send_batch(builder, topic, partition=partition))
                            builder = producer.create_batch()
                            if not _append(builder, record):
                                raise TransportError(f"a record of {len(record.value or b'')} B is too large")
                    acks.append(await producer.send_batch(builder, topic, partition=partition))
                await asyncio.gather(*acks)
        except (TimeoutError, KafkaError, OSError) as exc:
            # The producer's state is unknown after a failure: start a fresh one next time.
            await self.stop()
            raise TransportError(f"Kafka send failed: {exc!r}") from exc


async def _by_partition(
    producer: AIOKafkaProducer, records: Sequence[Record]
) -> dict[tuple[str, int], list[Record]]:
    """Records grouped by the partition `send()` would pick (murmur2 of the key), in order."""
    partitions: dict[str, list[int]] = {}
    groups: dict[tuple[str, int], list[Record]] = {}
    for record in records:
        if record.topic not in partitions:
            partitions[record.topic] = sorted(await producer.partitions_for(record.topic))
        known = partitions[record.topic]
        partition: int = _PARTITIONER(record.key, known, known)
        groups.setdefault((record.topic, partition), []).append(record)
    return groups


def _append(builder: BatchBuilder, record: Record) -> bool:
    """False when the batch is full."""
    return (
        builder.append(key=record.key, value=record.value, timestamp=None, headers=list(record.headers))
        is not None
    )


class _DrainOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """Holds a rebalance until the batch in progress is handled and committed."""

    def __init__(self, lock: asyncio.Lock) -> None:
        self._lock = lock

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        async with self._lock:
            return

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        return


async def _stop_consumer(consumer: AIOKafkaConsumer, timeout_s: float) -> None:
    """Stop a consumer whose broker may be gone, without taking the worker down with it.

    With the broker dead mid-commit, aiokafka's fetcher close raises the CancelledError of its own
    cancelled tasks; only a cancellation of *our* task may propagate, the fetcher's is swallowed.
    """
    try:
        await asyncio.wait_for(consumer.stop(), timeout_s)
    except (TimeoutError, KafkaError, OSError) as exc:
        log.warning("kafka consumer stop did not finish cleanly: %r", exc)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        log.warning("kafka consumer stop did not finish cleanly: its fetcher's tasks were cancelled")


class KafkaSubscription:
    def __init__(self, config: KafkaConfig, group: str, topics: Sequence[str]) -> None:
        self._config = config
        self._group = group
        self._topics = list(topics)
        self.batch_lock = asyncio.Lock()
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._config.bootstrap_servers,
            client_id=f"{self._config.client_id}-{self._group}",
            group_id=self._group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
            max_poll_interval_ms=300_000,
            # New topics appear within seconds rather than the default five minutes.
            metadata_max_age_ms=5_000,
        )
        consumer.subscribe(self._topics, listener=_DrainOnRevoke(self.batch_lock))
        try:
            await asyncio.wait_for(consumer.start(), self._config.send_timeout_s * 3)
        except (TimeoutError, KafkaError, OSError) as exc:
            await _stop_consumer(consumer, self._config.stop_timeout_s)
            raise TransportError(f"Kafka consumer could not start: {exc!r}") from exc
        self._consumer = consumer

    async def stop(self) -> None:
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            await _stop_consumer(consumer, self._config.stop_timeout_s)

    async def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        assert self._consumer is not None, "start() first"
        batches = await self._consumer.getmany(timeout_ms=int(timeout_s * 1000), max_records=max_records)
        return [
            Record(
                topic=m.topic,
                key=m.key,
                value=m.value,
                headers=tuple(m.headers or ()),
                partition=m.partition,
                offset=m.offset,
                extra={"timestamp_ms": m.timestamp},
            )
            for tp_records in batches.values()
            for m in tp_records
        ]

    async def commit(self, offsets: Offsets) -> None:
        assert self._consumer is not None, "start() first"
        if not offsets:
            return
        tps = {TopicPartition(t, p): o for (t, p), o in offsets.items()}
        try:
            await asyncio.wait_for(self._consumer.commit(tps), self._config.commit_timeout_s)
        except CommitFailedError as exc:
            # A rebalance took the partitions away; the new owner re-reads and the inbox dedupes.
            log.warning("offset commit lost to a rebalance in group %s: %s", self._group, exc)
        except (TimeoutError, KafkaError) as exc:
            raise TransportError(f"Kafka commit failed: {exc!r}") from exc


class KafkaTransport:
    def __init__(self, config: KafkaConfig) -> None:
        self.config = config

    async def ensure_topics(self, names: Sequence[str], partitions: int = 3) -> None:
        """Create missing topics (and their DLQs) so a fresh consumer sees partitions at once."""
        wanted = sorted({n for name in names for n in (name, f"{name}.dlq")})
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.config.bootstrap_servers, client_id=self.config.client_id
        )
        try:
            await asyncio.wait_for(admin.start(), self.config.send_timeout_s)
            existing = set(await asyncio.wait_for(admin.list_topics(), self.config.send_timeout_s))
            missing = [NewTopic(n, partitions, 1) for n in wanted if n not in existing]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await asyncio.wait_for(admin.create_topics(missing), self.config.send_timeout_s)
        except (TimeoutError, KafkaError, OSError) as exc:
            raise TransportError(f"could not create topics {wanted}: {exc!r}") from exc
        finally:
            await asyncio.wait_for(admin.close(), self.config.stop_timeout_s)

    def producer(self) -> KafkaProducer:
        return KafkaProducer(self.config)

    def subscription(self, group: str, topics: Sequence[str]) -> KafkaSubscription:
        return KafkaSubscription(self.config, group, topics)
