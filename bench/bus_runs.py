"""bench/bus: the three measured parts: (a) raw aiokafka, (b) the platform path, (c) write cost."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer

from bench.bus_child import Child
from bench.bus_common import (
    BODY,
    PARTITIONS,
    WRITE_BLOCK,
    WRITERS,
    Phase,
    Setup,
    business_write,
    log,
    make_event,
    run_schedule,
)
from bench.bus_stats import Watched, cpu_report, cpu_snapshot
from messaging.kafka import KafkaTransport
from servicekit.db import make_engine, make_sessionmaker


@dataclass
class RawRun:
    fixed: Phase
    maximum: Phase
    received: dict[int, float]
    batches: list[int]
    commits: list[float]


async def run_raw(setup: Setup, transport: KafkaTransport) -> RawRun:
    sizes = setup.sizes
    topic = f"bench.raw.{setup.run_id}"
    await transport.ensure_topics([topic], partitions=PARTITIONS)
    consumer = await Child.spawn(
        "raw-consumer", "--role", "raw-consumer", "--bootstrap", setup.bootstrap,
        "--topic", topic, "--group", f"bench-raw-{setup.run_id}",
    )  # fmt: skip
    producer = AIOKafkaProducer(
        bootstrap_servers=setup.bootstrap,
        client_id="bench-raw-producer",
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
    )
    pending: list[asyncio.Future[Any]] = []
    try:
        await asyncio.wait_for(producer.start(), 30)

        def sender(phase: Phase) -> Callable[[int], Awaitable[None]]:
            async def send(k: int) -> None:
                seq = phase.first + k
                value = json.dumps({"i": seq, "t": phase.intended[k], "body": BODY}, ensure_ascii=False)
                future = await producer.send(topic, value.encode(), key=f"case-{seq}".encode())

                def acked(_: object) -> None:
                    phase.done[k] = time.monotonic()

                future.add_done_callback(acked)
                pending.append(future)

            return send

        async def drain(phase: Phase, timeout_s: float) -> None:
            await asyncio.wait_for(asyncio.gather(*pending), timeout_s)
            pending.clear()
            phase.complete = await consumer.wait_count(phase.end, timeout_s)

        watched = [*setup.watched, Watched("consumer", consumer.pid)]
        warm = Phase("raw warm-up", 0, sizes.warmup_n)
        log(f"(a) raw aiokafka: warm-up {warm.n} events at {sizes.rate:.0f}/s")
        await run_schedule(warm, sender(warm), rate=sizes.rate, workers=1)
        await drain(warm, 60)
        if not warm.complete:
            raise RuntimeError("raw consumer did not receive the warm-up events within 60 s")

        fixed = Phase("raw fixed", warm.end, sizes.fixed_n)
        log(f"(a) raw aiokafka: {fixed.n} events at {sizes.rate:.0f}/s")
        before = cpu_snapshot(watched)
        await run_schedule(fixed, sender(fixed), rate=sizes.rate, workers=1)
        await drain(fixed, 60)
        fixed.cpu, fixed.outside_load = cpu_report(before, cpu_snapshot(watched), fixed.n)

        maximum = Phase("raw max", fixed.end, sizes.raw_max)
        log(f"(a) raw aiokafka: {maximum.n} events, closed loop")
        before = cpu_snapshot(watched)
        await run_schedule(maximum, sender(maximum), rate=None, workers=1)
        await drain(maximum, 120)
        maximum.cpu, maximum.outside_load = cpu_report(before, cpu_snapshot(watched), maximum.n)
    finally:
        for future in pending:
            future.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(producer.stop(), 10)
        result = await consumer.finish()
    received: dict[int, float] = {}
    for seq, at in result.get("got", []):
        received.setdefault(int(seq), float(at))
    return RawRun(fixed, maximum, received, result.get("batches", []), result.get("commits", []))


# --- (b) the platform path ----------------------------------------------------------------------


@dataclass
class BusRun:
    fixed: Phase
    maximum: Phase
    relay_sent: dict[int, tuple[float, float]]  # seq -> (send start, ack)
    handled: dict[int, tuple[float, float, float]]  # seq -> (polled, handling started, committed)
    relay_rounds: list[tuple[int, float]]
    relay_empty_rounds: int
    consumer_batches: list[int]
    consumer_commits: list[float]
    duplicates: int
    dead_lettered: int
    fallbacks: int


async def run_bus(setup: Setup, transport: KafkaTransport) -> BusRun:
    sizes = setup.sizes
    topic = f"bench.bus.{setup.run_id}"
    await transport.ensure_topics([topic], partitions=PARTITIONS)
    relay = await Child.spawn(
        "relay", "--role", "relay", "--bootstrap", setup.bootstrap, "--db", setup.producer_db
    )
    consumer = await Child.spawn(
        "bus-consumer", "--role", "bus-consumer", "--bootstrap", setup.bootstrap, "--db", setup.consumer_db,
        "--topic", topic, "--group", f"bench-bus-{setup.run_id}",
    )  # fmt: skip
    engine = make_engine(setup.producer_db)
    sessions = make_sessionmaker(engine)
    try:

        def writer(phase: Phase) -> Callable[[int], Awaitable[None]]:
            async def write(k: int) -> None:
                seq = phase.first + k
                await business_write(sessions, seq, make_event(seq, phase.intended[k]), topic)
                phase.done[k] = time.monotonic()

            return write

        watched = [*setup.watched, Watched("relay", relay.pid), Watched("consumer", consumer.pid)]
        warm = Phase("bus warm-up", 0, sizes.warmup_n)
        log(f"(b) platform: warm-up {warm.n} events at {sizes.rate:.0f}/s")
        await run_schedule(warm, writer(warm), rate=sizes.rate, workers=WRITERS)
        warm.complete = await consumer.wait_count(warm.end, 60)
        if not warm.complete:
            raise RuntimeError(f"consumer handled {consumer.count}/{warm.n} warm-up events within 60 s")

        fixed = Phase("bus fixed", warm.end, sizes.fixed_n)
        log(f"(b) platform: {fixed.n} events at {sizes.rate:.0f}/s, {WRITERS} writer tasks")
        before = cpu_snapshot(watched)
        await run_schedule(fixed, writer(fixed), rate=sizes.rate, workers=WRITERS)
        fixed.complete = await consumer.wait_count(fixed.end, 60)
        fixed.cpu, fixed.outside_load = cpu_report(before, cpu_snapshot(watched), fixed.n)

        maximum = Phase("bus max", fixed.end, sizes.bus_max)
        log(f"(b) platform: {maximum.n} events, closed loop, {WRITERS} writer tasks")
        before = cpu_snapshot(watched)
        await run_schedule(maximum, writer(maximum), rate=None, workers=WRITERS)
        maximum.complete = await consumer.wait_count(maximum.end, max(120.0, maximum.n / 50))
        maximum.cpu, maximum.outside_load = cpu_report(before, cpu_snapshot(watched), maximum.n)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(engine.dispose(), 10)
        relay_result = await relay.finish()
        consumer_result = await consumer.finish()
    relay_sent: dict[int, tuple[float, float]] = {}
    for seq, started, acked in relay_result.get("sent", []):
        relay_sent.setdefault(int(seq), (float(started), float(acked)))
    handled: dict[int, tuple[float, float, float]] = {}
    for seq, polled, started, committed in consumer_result.get("done", []):
        handled.setdefault(int(seq), (float(polled), float(started), float(committed)))
    return BusRun(
        fixed=fixed,
        maximum=maximum,
        relay_sent=relay_sent,
        handled=handled,
        relay_rounds=[(int(n), float(d)) for n, d in relay_result.get("rounds", [])],
        relay_empty_rounds=int(relay_result.get("empty_rounds", 0)),
        consumer_batches=consumer_result.get("batches", []),
        consumer_commits=consumer_result.get("commits", []),
        duplicates=int(consumer_result.get("duplicates", 0)),
        dead_lettered=int(consumer_result.get("dead_lettered", 0)),
        fallbacks=int(consumer_result.get("fallbacks", 0)),
    )


# --- (c) write cost -----------------------------------------------------------------------------


@dataclass
class WriteRun:
    plain: list[float]
    outbox: list[float]
    cpu_plain_us: float
    cpu_outbox_us: float


async def run_writes(setup: Setup) -> WriteRun:
    """Sequential transactions, plain (A) and with add_event (B), in blocks A B B A A B ..."""
    engine = make_engine(setup.writes_db)
    sessions = make_sessionmaker(engine)
    topic = f"bench.writes.{setup.run_id}"  # never relayed: nothing reads this database's outbox
    seq = 0
    times: dict[bool, list[float]] = {False: [], True: []}
    cpu: dict[bool, float] = {False: 0.0, True: 0.0}

    async def block(with_event: bool, n: int, keep: bool) -> None:
        nonlocal seq
        cpu_before = time.process_time()
        for _ in range(n):
            seq += 1
            started = time.perf_counter()
            event = make_event(seq, time.monotonic()) if with_event else None
            await business_write(sessions, seq, event, topic)
            if keep:
                times[with_event].append(time.perf_counter() - started)
        if keep:
            cpu[with_event] += time.process_time() - cpu_before

    try:
        log(f"(c) write cost: warm-up, then {setup.sizes.writes} + {setup.sizes.writes} transactions")
        for _ in range(2):
            await block(False, 100, keep=False)
            await block(True, 100, keep=False)
        rounds = max(1, setup.sizes.writes // WRITE_BLOCK)
        for r in range(rounds):
            order = (False, True) if r % 2 == 0 else (True, False)
            for with_event in order:
                await block(with_event, WRITE_BLOCK, keep=True)
    finally:
        await asyncio.wait_for(engine.dispose(), 10)
    return WriteRun(
        plain=times[False],
        outbox=times[True],
        cpu_plain_us=cpu[False] / max(len(times[False]), 1) * 1e6,
        cpu_outbox_us=cpu[True] / max(len(times[True]), 1) * 1e6,
    )
