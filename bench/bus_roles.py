"""bench/bus: what the child processes run: the raw consumer, the relay and the platform consumer."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer
from sqlalchemy.ext.asyncio import AsyncSession

from bench.bus_common import CONSUMER_BATCH, EVENT_TYPE, RELAY_BATCH, received, seq_of_key
from contracts.envelope import Event
from messaging.consumer import EventConsumer
from messaging.kafka import KafkaConfig, KafkaSubscription, KafkaTransport
from messaging.records import Record
from messaging.relay import OutboxRelay
from messaging.transport import Offsets, Producer
from servicekit.db import make_engine, make_sessionmaker

# --- child processes (consumers, relay): protocol over stdin/stdout ------------------------------
#
# A child prints "progress <monotonic> <count>" lines while it runs and one "result <json>" line at
# the end. Closing its stdin (or SIGTERM) asks it to stop; it also dies with this process.


def emit(kind: str, payload: str) -> None:
    with contextlib.suppress(BrokenPipeError):  # the parent is gone: nobody to tell
        sys.stdout.write(f"{kind} {payload}\n")
        sys.stdout.flush()


async def report_progress(count: Callable[[], int], stop: asyncio.Event) -> None:
    last = -1
    while not stop.is_set():
        n = count()
        if n != last:
            emit("progress", f"{time.monotonic():.6f} {n}")
            last = n
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.02)


async def child_main(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def watch_stdin() -> None:
        sys.stdin.buffer.read()  # returns at EOF: the parent closed the pipe or died
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_stdin, daemon=True).start()
    for sig in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C reaches the whole process group
        loop.add_signal_handler(sig, stop.set)
    roles: dict[str, Callable[[argparse.Namespace, asyncio.Event], Awaitable[dict[str, Any]]]] = {
        "raw-consumer": role_raw_consumer,
        "relay": role_relay,
        "bus-consumer": role_bus_consumer,
    }
    result = await asyncio.wait_for(roles[args.role](args, stop), args.lifetime)
    emit("result", json.dumps(result, separators=(",", ":")))
    return 0


async def role_raw_consumer(args: argparse.Namespace, stop: asyncio.Event) -> dict[str, Any]:
    """A plain consumer group member: manual offset commit after every batch."""
    consumer = AIOKafkaConsumer(
        args.topic,
        bootstrap_servers=args.bootstrap,
        client_id="bench-raw-consumer",
        group_id=args.group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
        metadata_max_age_ms=5_000,
    )
    await asyncio.wait_for(consumer.start(), 60)
    got: list[tuple[int, float]] = []
    batches: list[int] = []
    commits: list[float] = []
    reporter = asyncio.create_task(report_progress(lambda: len(got), stop))
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=200, max_records=CONSUMER_BATCH)
            if not batch:
                continue
            n = 0
            for messages in batch.values():
                for message in messages:
                    data = json.loads(message.value)
                    got.append((int(data["i"]), time.monotonic()))
                    n += 1
            started = time.monotonic()
            await asyncio.wait_for(consumer.commit(), 10)
            commits.append(time.monotonic() - started)
            batches.append(n)
    finally:
        stop.set()
        await reporter
        await asyncio.wait_for(consumer.stop(), 10)
    return {"got": got, "batches": batches, "commits": commits}


class TimedProducer:
    """The relay's producer, recording when each record's batch was handed over and acknowledged."""

    def __init__(self, inner: Producer) -> None:
        self._inner = inner
        self.sent: list[tuple[int, float, float]] = []  # (seq, send start, ack)

    async def start(self) -> None:
        await self._inner.start()

    async def stop(self) -> None:
        await self._inner.stop()

    async def send_batch(self, records: Sequence[Record]) -> None:
        started = time.monotonic()
        await self._inner.send_batch(records)
        acked = time.monotonic()
        self.sent.extend((seq_of_key(r.key), started, acked) for r in records)


class TimedRelay(OutboxRelay):
    """OutboxRelay with the duration and size of every round recorded (behaviour unchanged)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rounds: list[tuple[int, float]] = []  # (rows, duration) of rounds that published
        self.empty_rounds = 0

    async def publish_once(self) -> int:
        started = time.monotonic()
        n = await super().publish_once()
        if n:
            self.rounds.append((n, time.monotonic() - started))
        else:
            self.empty_rounds += 1
        return n


async def role_relay(args: argparse.Namespace, stop: asyncio.Event) -> dict[str, Any]:
    """The producing service's worker: OutboxRelay with servicekit's defaults."""
    engine = make_engine(args.db)
    transport = KafkaTransport(KafkaConfig(bootstrap_servers=args.bootstrap, client_id="bench-relay"))
    producer = TimedProducer(transport.producer())
    relay = TimedRelay(engine, producer, batch_size=RELAY_BATCH)
    reporter = asyncio.create_task(report_progress(lambda: relay.published, stop))
    try:
        await relay.run(stop)
    finally:
        stop.set()
        await reporter
        await producer.stop()
        await asyncio.wait_for(engine.dispose(), 10)
    return {
        "sent": producer.sent,
        "rounds": relay.rounds,
        "empty_rounds": relay.empty_rounds,
    }


class TimedSubscription:
    """A KafkaSubscription that records when each record was polled and how long commits took."""

    def __init__(self, inner: KafkaSubscription) -> None:
        self._inner = inner
        self.batch_lock = inner.batch_lock  # EventConsumer holds it across a batch (rebalance safety)
        self.polled: dict[str, float] = {}  # ce_id -> poll return time
        self.batches: list[int] = []
        self.commits: list[float] = []

    async def start(self) -> None:
        await self._inner.start()

    async def stop(self) -> None:
        await self._inner.stop()

    async def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        records = await self._inner.poll(max_records, timeout_s)
        now = time.monotonic()
        for record in records:
            self.polled[record.header("ce_id") or ""] = now
        if records:
            self.batches.append(len(records))
        return records

    async def commit(self, offsets: Offsets) -> None:
        started = time.monotonic()
        await self._inner.commit(offsets)
        self.commits.append(time.monotonic() - started)


class TimedConsumer(EventConsumer):
    """EventConsumer recording when handling of each record starts (behaviour unchanged).

    A batch starts all its records at once; a batch that falls back to record-by-record handling
    stamps each record again when its own transaction starts.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.started_at: dict[str, float] = {}  # ce_id -> handling started

    async def handle_batch(self, records: Sequence[Record]) -> None:
        now = time.monotonic()
        for record in records:
            self.started_at[record.header("ce_id") or ""] = now
        await super().handle_batch(records)

    async def handle(self, record: Record) -> None:
        self.started_at[record.header("ce_id") or ""] = time.monotonic()
        await super().handle(record)


async def record_receipt(session: AsyncSession, event: Event) -> None:
    """The consuming service's handler: one row per event, in the inbox row's transaction."""
    await session.execute(
        received.insert().values(event_id=event.id, seq=int(event.data["seq"]), handled_at=datetime.now(UTC))
    )


async def role_bus_consumer(args: argparse.Namespace, stop: asyncio.Event) -> dict[str, Any]:
    """The consuming service's worker: EventConsumer on its own database."""
    engine = make_engine(args.db)
    transport = KafkaTransport(KafkaConfig(bootstrap_servers=args.bootstrap, client_id="bench-consumer"))
    subscription = TimedSubscription(transport.subscription(args.group, [args.topic]))
    done: list[tuple[int, float, float, float]] = []  # (seq, polled, handling started, committed)
    consumer: TimedConsumer

    def after_commit(event: Event) -> None:
        now = time.monotonic()
        done.append(
            (int(event.data["seq"]), subscription.polled[event.id], consumer.started_at[event.id], now)
        )

    dlq = transport.producer()
    consumer = TimedConsumer(
        "bench-consumer",
        subscription,
        make_sessionmaker(engine),
        {EVENT_TYPE: record_receipt},
        dlq,
        batch_size=CONSUMER_BATCH,
        after_commit=after_commit,
    )
    reporter = asyncio.create_task(report_progress(lambda: len(done), stop))
    try:
        await consumer.run(stop)
    finally:
        stop.set()
        await reporter
        await dlq.stop()
        await asyncio.wait_for(engine.dispose(), 10)
    return {
        "done": done,
        "batches": subscription.batches,
        "commits": subscription.commits,
        "duplicates": consumer.duplicates,
        "dead_lettered": consumer.dead_lettered,
        "fallbacks": consumer.fallbacks,
    }
