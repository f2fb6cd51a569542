"""Event bus benchmark: raw aiokafka vs the platform's outbox -> relay -> Kafka -> idempotent consumer.

    .venv/bin/python bench/bus.py [--quick]

One run starts its own Kafka broker and PostgreSQL cluster (fsync on), unless KAFKA_BOOTSTRAP_SERVERS /
DATABASE_URL name existing ones, and measures on the same broker:

  (a) raw aiokafka: idempotent acks=all producer (linger 5 ms) -> consumer group (manual commit per
      batch), in a separate process; latency = receive time - intended send time;
  (b) the platform path, laid out as in production (three processes): business row + add_event in one
      transaction (this process, several writer tasks) -> OutboxRelay (its own process) -> Kafka ->
      EventConsumer (its own process, second database, one row per event); latency = handler commit
      time - business commit time (and - intended time, which includes the business write);
  (c) write cost: median time of a plain business-row transaction vs the same plus add_event,
      interleaved in blocks.

(a) and (b) run at a fixed 1,000 events/s (open loop: sends are scheduled at intended times, latency
is counted from them, so a stall cannot hide queued events) and at maximum rate (closed loop). All
processes share one machine: CLOCK_MONOTONIC (time.monotonic) is system-wide on Linux, so stamps
taken in different processes compare directly. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import os
import platform
import signal
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version as dist_version
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.envelope import Event, EventData, new_event
from localinfra.kafka import start_kafka
from localinfra.pg_admin import plain_dsn
from localinfra.pg_external import ExternalPostgres
from localinfra.postgres import PostgresCluster, start_postgres
from localinfra.proc import die_with_parent
from messaging.consumer import EventConsumer
from messaging.kafka import KafkaConfig, KafkaSubscription, KafkaTransport
from messaging.outbox import add_event
from messaging.records import Record
from messaging.relay import NOTIFY_CHANNEL, OutboxRelay
from messaging.tables import metadata as messaging_metadata
from messaging.transport import Offsets, Producer
from servicekit.db import make_engine, make_sessionmaker

GOAL_RATE = 1_000.0  # events/s of the fixed-rate phases, where the latency goal is defined
PARTITIONS = 3  # what KafkaTransport.ensure_topics gives every service topic
WRITERS = 8  # concurrent business-writer tasks in (b)
CONSUMER_BATCH = 200  # servicekit's consumer_batch_size default; the raw consumer uses it too
RELAY_BATCH = 500  # servicekit's relay_batch_size default
WRITE_BLOCK = 100  # (c): transactions per block; blocks alternate A B B A ...
EVENT_TYPE = "catalog.item.retired"  # a registered type; the topic is overridden to a private one
BODY = "申请材料已受理" * 3  # 63 bytes of UTF-8, in the business row and in every event
GOAL_E2E_P99_S = 0.025
GOAL_THROUGHPUT_RATIO = 0.5
GOAL_WRITE_RATIO = 1.1
STOP_TIMEOUT_S = 30.0
T = TypeVar("T")
OUTSIDE_LOAD_WARN = 10.0  # % of the machine used outside the benchmark that makes a phase suspect
THIS_FILE = Path(__file__).resolve()  # children are this script with --role


@dataclass(frozen=True)
class Sizes:
    rate: float
    warmup_s: float
    fixed_s: float
    raw_max: int
    bus_max: int
    writes: int

    @property
    def warmup_n(self) -> int:
        return int(self.rate * self.warmup_s)

    @property
    def fixed_n(self) -> int:
        return int(self.rate * self.fixed_s)


FULL = Sizes(rate=GOAL_RATE, warmup_s=2.0, fixed_s=10.0, raw_max=20_000, bus_max=10_000, writes=2_000)
QUICK = Sizes(rate=GOAL_RATE, warmup_s=0.5, fixed_s=2.0, raw_max=4_000, bus_max=2_000, writes=400)


# --- tables and the event -------------------------------------------------------------------------

bench_metadata = sa.MetaData()
# The producing service's business row.
case = sa.Table(
    "bench_case",
    bench_metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
# The consuming service's row, one per handled event.
received = sa.Table(
    "bench_received",
    bench_metadata,
    sa.Column("n", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
)


class BenchTick(EventData):
    """The benchmark's event data: sequence number and intended time (CLOCK_MONOTONIC seconds)."""

    seq: int
    t: float
    body: str


def make_event(seq: int, intended: float) -> Event:
    # subject = Kafka key = "case-<seq>": spreads over partitions and lets stages find the seq cheaply
    return new_event(
        type=EVENT_TYPE,
        source="/bench",
        subject=f"case-{seq}",
        data=BenchTick(seq=seq, t=intended, body=BODY),
    )


def seq_of_key(key: bytes | None) -> int:
    assert key is not None
    assert key.startswith(b"case-"), key
    return int(key[5:])


async def business_write(
    sessions: async_sessionmaker[AsyncSession], seq: int, event: Event | None, topic: str
) -> None:
    """The business write: one row, plus its event through the outbox when `event` is given."""
    async with sessions.begin() as session:
        await session.execute(
            case.insert().values(id=uuid.uuid4().hex, seq=seq, body=BODY, created_at=datetime.now(UTC))
        )
        if event is not None:
            await add_event(session, event, topic=topic)


async def prepare_database(url: str) -> None:
    """Messaging tables with the NOTIFY trigger of messaging.migration (not importable outside alembic)."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(messaging_metadata.create_all)
            await conn.run_sync(bench_metadata.create_all)
            await conn.exec_driver_sql(
                "CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN PERFORM pg_notify('{NOTIFY_CHANNEL}', ''); RETURN NULL; END $$"
            )
            await conn.exec_driver_sql(
                "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
                "FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()"
            )
    finally:
        await asyncio.wait_for(engine.dispose(), 10)


# --- statistics -----------------------------------------------------------------------------------


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def median(values: Sequence[float]) -> float:
    return pct(values, 50)


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.2f} ms"


def p50_p99(values: Sequence[float]) -> str:
    return f"{ms(pct(values, 50))} / {ms(pct(values, 99))}"


# --- CPU accounting from /proc --------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _proc_table() -> dict[int, tuple[int, float, str]]:
    """pid -> (ppid, CPU seconds used so far, command name) for every process we can read."""
    table: dict[int, tuple[int, float, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, _, tail = (entry / "stat").read_text().rpartition(")")
            fields = tail.split()
            table[int(entry.name)] = (
                int(fields[1]),
                (int(fields[11]) + int(fields[12])) / _TICK,
                head.partition("(")[2],
            )
        except (OSError, IndexError, ValueError):
            continue
    return table


def _machine_jiffies() -> dict[str, int]:
    """Jiffies over all CPUs since boot: busy (user+nice+system+irq+softirq), softirq, steal, total."""
    v = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    v += [0] * (8 - len(v))
    user, nice, system, idle, iowait, irq, softirq, steal = v
    return {
        "busy": user + nice + system + irq + softirq,
        "softirq": softirq,
        "steal": steal,
        "total": user + nice + system + idle + iowait + irq + softirq + steal,
    }


@dataclass(frozen=True)
class Watched:
    """A process whose CPU is sampled; with `tree`, its descendants (PostgreSQL backends) count too."""

    name: str
    pid: int
    tree: bool = False


@dataclass
class CpuSnapshot:
    at: float
    procs: dict[str, float]  # CPU seconds of each watched process (tree)
    kernel: dict[int, float]  # CPU seconds of kernel threads (kthreadd's children: I/O, journaling)
    foreign: dict[int, tuple[float, str]]  # CPU seconds and name of every other process, by pid
    jiffies: dict[str, int]


def _descendants(table: Mapping[int, tuple[int, float, str]], root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(children.get(pid, ()))
    return found


def cpu_snapshot(watched: Sequence[Watched]) -> CpuSnapshot:
    table = _proc_table()
    procs: dict[str, float] = {}
    ours: set[int] = set()
    for w in watched:
        pids = _descendants(table, w.pid) if w.tree else {w.pid}
        ours |= pids
        procs[w.name] = sum(table[p][1] for p in pids if p in table)
    kernel = {p: cpu for p, (ppid, cpu, _) in table.items() if p == 2 or ppid == 2}  # kthreadd + children
    foreign = {p: (cpu, name) for p, (_, cpu, name) in table.items() if p not in ours and p not in kernel}
    return CpuSnapshot(
        at=time.monotonic(),
        procs=procs,
        kernel=kernel,
        foreign=foreign,
        jiffies=_machine_jiffies(),
    )


def cpu_report(before: CpuSnapshot, after: CpuSnapshot, events: int) -> tuple[str, float]:
    """A one-line CPU summary, and the share of the machine used by other processes (in %)."""
    wall = after.at - before.at
    cores = os.cpu_count() or 1
    parts = []
    ours = 0.0
    for name, used in after.procs.items():
        spent = used - before.procs.get(name, 0.0)
        ours += spent
        parts.append(f"{name} {spent / wall * 100:.0f}% ({spent / max(events, 1) * 1e6:.0f} µs/ev)")
    # A process started during the phase counts whole; one that ended during it is "unattributed".
    by_name: dict[str, float] = {}
    for pid, (cpu, name) in after.foreign.items():
        by_name[name] = by_name.get(name, 0.0) + cpu - before.foreign.get(pid, (0.0, ""))[0]
    foreign = sum(by_name.values())
    top = sorted(by_name.items(), key=lambda item: -item[1])[:3]
    named = ", ".join(f"{name} {cpu / wall * 100:.0f}%" for name, cpu in top if cpu / wall > 0.02)
    kernel = sum(cpu - before.kernel.get(pid, 0.0) for pid, cpu in after.kernel.items())
    delta = {k: after.jiffies[k] - before.jiffies[k] for k in after.jiffies}
    share = {k: v / max(delta["total"], 1) * 100 for k, v in delta.items()}

    def machine_share(seconds: float) -> float:
        return seconds / (wall * cores) * 100

    ours_share, kernel_share = machine_share(ours), machine_share(kernel)
    foreign_share = machine_share(foreign)
    rest = max(0.0, share["busy"] - ours_share - kernel_share - foreign_share)
    machine = (
        f"machine {share['busy']:.0f}% busy of {cores} cores: benchmark {ours_share:.0f}%, kernel threads "
        f"{kernel_share:.0f}%, other processes {foreign_share:.0f}%{f' ({named})' if named else ''}, "
        f"unattributed {rest:.0f}% "
        f"(softirq {share['softirq']:.0f}%, steal {share['steal']:.0f}%)"
    )
    # Unattributed time beyond softirq is mostly short-lived processes that came and went.
    outside = foreign_share + max(0.0, rest - share["softirq"])
    return f"{machine}; per process, % of one core: " + ", ".join(parts), outside


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


class Child:
    """A child process of this benchmark, spawned as `bus.py --role ...`."""

    def __init__(self, name: str, proc: asyncio.subprocess.Process) -> None:
        self.name = name
        self.proc = proc
        self.count = 0
        self.result: dict[str, Any] = {}
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def spawn(cls, name: str, *args: str) -> Child:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(THIS_FILE),
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 26,  # the result line carries every timestamp
            preexec_fn=die_with_parent,
        )
        return cls(name, proc)

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            kind, _, rest = raw.decode().rstrip("\n").partition(" ")
            if kind == "progress":
                self.count = int(rest.split()[1])
            elif kind == "result":
                self.result = json.loads(rest)
            else:
                print(f"[{self.name}] {kind} {rest}", file=sys.stderr)

    async def wait_count(self, n: int, timeout_s: float) -> bool:
        """Wait until the child has counted `n` events; False when `timeout_s` runs out first."""
        deadline = time.monotonic() + timeout_s
        while self.count < n:
            if self.proc.returncode is not None:
                raise RuntimeError(f"{self.name} exited with code {self.proc.returncode}")
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    async def finish(self) -> dict[str, Any]:
        """Ask the child to stop, wait (bounded), kill it if need be; returns its result."""
        if self.proc.returncode is None and self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            print(f"{self.name} did not stop within {STOP_TIMEOUT_S} s: killing it", file=sys.stderr)
            self.kill()
            await asyncio.wait_for(self.proc.wait(), 10)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._reader, 10)
        return self.result

    def kill(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()


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
    """EventConsumer recording when it starts handling each record (behaviour unchanged)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.started_at: dict[str, float] = {}  # ce_id -> handling started

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
    }


# --- load generation ------------------------------------------------------------------------------


@dataclass
class Phase:
    """One measured stretch of events with consecutive sequence numbers [first, first + n)."""

    name: str
    first: int
    n: int
    intended: list[float] = field(default_factory=list)
    started: list[float] = field(default_factory=list)  # send / business transaction start
    done: list[float] = field(default_factory=list)  # Kafka ack (a) / business commit (b)
    complete: bool = False
    cpu: str = ""
    outside_load: float = 0.0  # % of the machine used by processes other than the benchmark's

    def __post_init__(self) -> None:
        self.intended = [math.nan] * self.n
        self.started = [math.nan] * self.n
        self.done = [math.nan] * self.n

    @property
    def end(self) -> int:
        return self.first + self.n


async def run_schedule(
    phase: Phase, op: Callable[[int], Awaitable[None]], *, rate: float | None, workers: int
) -> None:
    """Run op(k) for k in range(phase.n): open loop at `rate`/s, or back to back (closed) when None.

    Open loop: event k is due at t0 + k/rate; a free worker sleeps until then, and its latency is
    counted from that intended time even if every worker was busy (no coordinated omission).
    """
    t0 = time.monotonic() + 0.005
    next_k = 0

    async def worker() -> None:
        nonlocal next_k
        while next_k < phase.n:
            k = next_k
            next_k += 1
            now = time.monotonic()
            if rate is not None:
                intended = t0 + k / rate
                if intended > now:
                    await asyncio.sleep(intended - now)
                    now = time.monotonic()
            else:
                intended = now
            phase.intended[k], phase.started[k] = intended, now
            await op(k)

    await asyncio.gather(*(worker() for _ in range(workers)))


# --- (a) raw aiokafka ---------------------------------------------------------------------------


@dataclass
class Setup:
    bootstrap: str
    producer_db: str
    consumer_db: str
    writes_db: str
    run_id: str
    sizes: Sizes
    watched: list[Watched]


@dataclass
class RawRun:
    fixed: Phase
    maximum: Phase
    received: dict[int, float]
    batches: list[int]
    commits: list[float]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


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


# --- report -------------------------------------------------------------------------------------


@dataclass
class Row:
    metric: str
    value: str
    goal: str = ""
    ok: bool | None = None


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("PASS" if ok else "FAIL")


def print_table(rows: Sequence[Row]) -> None:
    header = Row("metric", "value", "goal")
    widths = [max(len(r.metric) for r in [header, *rows]), max(len(r.value) for r in [header, *rows])]
    goal_width = max(len(r.goal) for r in [header, *rows])
    line = f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * goal_width}  ----"
    print(f"{header.metric:<{widths[0]}}  {header.value:>{widths[1]}}  {header.goal:<{goal_width}}  result")
    print(line)
    for r in rows:
        print(f"{r.metric:<{widths[0]}}  {r.value:>{widths[1]}}  {r.goal:<{goal_width}}  {verdict(r.ok)}")


def span_rate(n: int, start: float, end: float) -> float:
    return n / (end - start) if end > start else math.nan


def lost(phase: Phase, seen: Mapping[int, object]) -> int:
    return sum(1 for seq in range(phase.first, phase.end) if seq not in seen)


def raw_rows(raw: RawRun, rate_s: float) -> tuple[list[Row], list[str], float]:
    rows: list[Row] = []
    notes: list[str] = []
    max_rate = math.nan
    for phase in (raw.fixed, raw.maximum):
        seqs = range(phase.first, phase.end)
        got = [raw.received[s] for s in seqs if s in raw.received]
        e2e = [raw.received[s] - phase.intended[s - phase.first] for s in seqs if s in raw.received]
        missing = lost(phase, raw.received)
        rate = span_rate(len(got), min(phase.started), max(got)) if got else math.nan
        if phase is raw.fixed:
            rows.append(Row(f"(a) raw @{rate_s:.0f}/s: received events/s", f"{rate:,.0f}"))
            rows.append(Row(f"(a) raw @{rate_s:.0f}/s: e2e p50 / p99 (from intended send)", p50_p99(e2e)))
            lag = [s - i for s, i in zip(phase.started, phase.intended, strict=True)]
            ack = [d - s for s, d in zip(phase.started, phase.done, strict=True)]
            notes.append(
                f"(a) @{rate_s:.0f}/s: generator lag p99 {ms(pct(lag, 99))}; send->ack {p50_p99(ack)}"
            )
        else:
            max_rate = rate
            rows.append(Row("(a) raw max: events/s (first send -> last receive)", f"{rate:,.0f}"))
            rows.append(Row("(a) raw max: latency p50 / p99 (closed loop, from send)", p50_p99(e2e)))
            acks = [d for d in phase.done if not math.isnan(d)]
            ack_rate = span_rate(len(acks), min(phase.started), max(acks)) if acks else math.nan
            notes.append(f"(a) max: producer acked {ack_rate:,.0f} events/s")
        if missing or not phase.complete:
            rows.append(Row(f"(a) {phase.name}: events not received", f"{missing}/{phase.n}", "0", False))
        notes.append(f"(a) {phase.name} CPU: {phase.cpu}")
    notes.append(
        f"(a) consumer: {len(raw.batches)} batches, mean {_mean(raw.batches):.1f} records; "
        f"offset commit {p50_p99(raw.commits)}"
    )
    return rows, notes, max_rate


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def bus_rows(bus: BusRun, raw_max_rate: float, rate_s: float) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    notes: list[str] = []
    fixed, maximum = bus.fixed, bus.maximum

    # fixed rate: latency and where it goes
    commit_e2e: list[float] = []
    intended_e2e: list[float] = []
    stages: dict[str, list[float]] = {
        "business write (intended -> commit)": [],
        "commit -> relay send": [],
        "relay send -> Kafka ack": [],
        "relay send -> consumer poll": [],
        "poll -> handling starts (queued in batch)": [],
        "handler transaction": [],
    }
    got: list[float] = []
    for k in range(fixed.n):
        seq = fixed.first + k
        intended, committed = fixed.intended[k], fixed.done[k]
        stages["business write (intended -> commit)"].append(committed - intended)
        if seq in bus.relay_sent:
            send, ack = bus.relay_sent[seq]
            stages["commit -> relay send"].append(send - committed)
            stages["relay send -> Kafka ack"].append(ack - send)
        if seq in bus.handled:
            polled, started, done = bus.handled[seq]
            got.append(done)
            commit_e2e.append(done - committed)
            intended_e2e.append(done - intended)
            stages["poll -> handling starts (queued in batch)"].append(started - polled)
            stages["handler transaction"].append(done - started)
            if seq in bus.relay_sent:
                stages["relay send -> consumer poll"].append(polled - bus.relay_sent[seq][0])
    rate = span_rate(len(got), min(fixed.started), max(got)) if got else math.nan
    p99_commit, p99_intended = pct(commit_e2e, 99), pct(intended_e2e, 99)
    missing = lost(fixed, bus.handled)
    committed_at = [c for c in fixed.done if not math.isnan(c)]
    write_rate = span_rate(len(committed_at), min(fixed.started), max(committed_at))
    rows.append(
        Row(f"(b) platform @{rate_s:.0f}/s: business commits/s (offered {rate_s:.0f})", f"{write_rate:,.0f}")
    )
    rows.append(Row(f"(b) platform @{rate_s:.0f}/s: handled events/s", f"{rate:,.0f}"))
    at_goal_rate = rate_s == GOAL_RATE
    rows.append(
        Row(f"(b) platform @{rate_s:.0f}/s: e2e p50 (commit -> handler commit)", ms(pct(commit_e2e, 50)))
    )
    rows.append(
        Row(
            f"(b) platform @{rate_s:.0f}/s: e2e p99 (commit -> handler commit)",
            ms(p99_commit),
            f"<= {GOAL_E2E_P99_S * 1000:.0f} ms" + ("" if at_goal_rate else f" at {GOAL_RATE:.0f}/s: n/a"),
            p99_commit <= GOAL_E2E_P99_S and not missing and fixed.complete if at_goal_rate else None,
        )
    )
    rows.append(
        Row(
            f"(b) platform @{rate_s:.0f}/s: e2e p50 / p99 (intended -> handler commit)",
            p50_p99(intended_e2e),
            "info: CO-corrected, incl. the write",
            None,
        )
    )
    if missing or not fixed.complete:
        rows.append(Row(f"(b) {fixed.name}: events not handled", f"{missing}/{fixed.n}", "0", False))
    notes.append(f"(b) @{rate_s:.0f}/s latency by stage, p50 / p99:")
    notes.extend(f"      {name:<42} {p50_p99(values)}" for name, values in stages.items())
    notes.append(
        f"      ({p99_intended * 1000:.2f} ms p99 from the intended time includes the business write)"
    )
    notes.append(f"(b) {fixed.name} CPU: {fixed.cpu}")

    # maximum rate: throughput of the whole path and of each stage
    seqs = range(maximum.first, maximum.end)
    start = min(maximum.started)
    done_at = [bus.handled[s][2] for s in seqs if s in bus.handled]
    acked_at = [bus.relay_sent[s][1] for s in seqs if s in bus.relay_sent]
    commits = [c for c in maximum.done if not math.isnan(c)]
    e2e = [bus.handled[s][2] - maximum.done[s - maximum.first] for s in seqs if s in bus.handled]
    throughput = span_rate(len(done_at), start, max(done_at)) if done_at else math.nan
    ratio = throughput / raw_max_rate if raw_max_rate > 0 else math.nan
    missing = lost(maximum, bus.handled)
    rows.append(Row("(b) platform max: events/s (first write -> last handled)", f"{throughput:,.0f}"))
    rows.append(Row("(b) platform max: latency p50 / p99 (closed loop, from commit)", p50_p99(e2e)))
    rows.append(
        Row(
            "(b) / (a) maximum throughput",
            f"{ratio:.2f}x",
            f">= {GOAL_THROUGHPUT_RATIO}x",
            ratio >= GOAL_THROUGHPUT_RATIO and not missing and maximum.complete,
        )
    )
    if missing or not maximum.complete:
        rows.append(Row(f"(b) {maximum.name}: events not handled", f"{missing}/{maximum.n}", "0", False))
    notes.append(
        f"(b) max by stage, cumulative events/s from the first write: business commits "
        f"{span_rate(len(commits), start, max(commits)) if commits else math.nan:,.0f}; relay acked "
        f"{span_rate(len(acked_at), start, max(acked_at)) if acked_at else math.nan:,.0f}; handled "
        f"{throughput:,.0f}"
    )
    notes.append(f"(b) {maximum.name} CPU: {maximum.cpu}")
    sizes = [n for n, _ in bus.relay_rounds]
    durations = [d for _, d in bus.relay_rounds]
    notes.append(
        f"(b) relay: {len(sizes)} rounds with rows (+{bus.relay_empty_rounds} empty), rows/round mean "
        f"{_mean(sizes):.1f} max {max(sizes, default=0)}; round time {p50_p99(durations)}"
    )
    notes.append(
        f"(b) consumer: {len(bus.consumer_batches)} polls, mean {_mean(bus.consumer_batches):.1f} records; "
        f"offset commit {p50_p99(bus.consumer_commits)}; duplicates {bus.duplicates}, "
        f"dead-lettered {bus.dead_lettered}"
    )
    return rows, notes


def write_rows(writes: WriteRun) -> tuple[list[Row], list[str]]:
    plain, outbox = median(writes.plain), median(writes.outbox)
    ratio = outbox / plain
    rows = [
        Row(f"(c) plain insert tx, median of {len(writes.plain)}", ms(plain)),
        Row(f"(c) insert + add_event tx, median of {len(writes.outbox)}", ms(outbox)),
        Row(
            "(c) outbox / plain write time",
            f"{ratio:.2f}x",
            f"<= {GOAL_WRITE_RATIO}x",
            ratio <= GOAL_WRITE_RATIO,
        ),
    ]
    notes = [
        f"(c) p99: plain {ms(pct(writes.plain, 99))}, outbox {ms(pct(writes.outbox, 99))}; "
        f"client CPU per tx: plain {writes.cpu_plain_us:.0f} µs, outbox {writes.cpu_outbox_us:.0f} µs"
    ]
    return rows, notes


# --- infrastructure and main --------------------------------------------------------------------


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_bounded(coro: Coroutine[Any, Any, T], timeout_s: float) -> T:
    """asyncio.run with a time limit; SIGINT/SIGTERM cancel the work in an orderly way.

    Inside the loop a signal cancels the main task, so every `finally` (stopping the child
    processes, disposing engines) runs before the broker and the cluster are stopped. Outside it
    (starting them) the signal raises KeyboardInterrupt, which unwinds the ExitStack.
    """

    async def guarded() -> T:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        return await asyncio.wait_for(coro, timeout_s)

    try:
        return asyncio.run(guarded())
    finally:
        # closing the loop put the default handlers back
        signal.signal(signal.SIGTERM, _raise_interrupt)
        signal.signal(signal.SIGINT, signal.default_int_handler)


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


async def server_facts(admin_url: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(plain_dsn(admin_url), timeout=10)
    try:
        version = await conn.fetchval("SHOW server_version")
        fsync = await conn.fetchval("SHOW fsync")
        sync_commit = await conn.fetchval("SHOW synchronous_commit")
    finally:
        await asyncio.wait_for(conn.close(), 10)
    return f"PostgreSQL {str(version).split()[0]} (fsync={fsync}, synchronous_commit={sync_commit})"


async def delete_topics(bootstrap: str, run_id: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench")
    try:
        await asyncio.wait_for(admin.start(), 10)
        names = [n for n in await asyncio.wait_for(admin.list_topics(), 10) if run_id in n]
        if names:
            await asyncio.wait_for(admin.delete_topics(names), 10)
    finally:
        await asyncio.wait_for(admin.close(), 10)


async def bench(setup: Setup, machine: str) -> int:
    transport = KafkaTransport(KafkaConfig(bootstrap_servers=setup.bootstrap, client_id="bench"))
    writes = await run_writes(setup)
    raw = await run_raw(setup, transport)
    bus = await run_bus(setup, transport)

    rows_a, notes_a, raw_max = raw_rows(raw, setup.sizes.rate)
    rows_b, notes_b = bus_rows(bus, raw_max, setup.sizes.rate)
    rows_c, notes_c = write_rows(writes)
    print()
    print(machine)
    print(f"load average at end: {load_average()}")
    print()
    rows = [*rows_a, *rows_b, *rows_c]
    print_table(rows)
    print()
    for note in [*notes_a, *notes_b, *notes_c]:
        print(note)
    failed = [r for r in rows if r.ok is False]
    print()
    for phase in (raw.fixed, raw.maximum, bus.fixed, bus.maximum):
        if phase.outside_load > OUTSIDE_LOAD_WARN:
            print(
                f"WARNING: during {phase.name}, ~{phase.outside_load:.0f}% of the machine went to processes "
                "outside the benchmark: its figures are depressed; rerun when the machine is idle."
            )
    print(f"{len(failed)} goal(s) missed" if failed else "all goals met")
    return 1 if failed else 0


@contextlib.contextmanager
def infrastructure(
    run_id: str,
) -> Iterator[tuple[str, str, PostgresCluster | ExternalPostgres, list[Watched]]]:
    """(bootstrap, Kafka version, PostgreSQL server, processes to watch); stopped/tidied on exit."""
    watched = [Watched("bench", os.getpid())]
    with contextlib.ExitStack() as stack:
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
        if bootstrap:
            kafka_version = "external (KAFKA_BOOTSTRAP_SERVERS)"
            stack.callback(lambda: run_bounded(delete_topics(bootstrap, run_id), 60))
        else:
            log("starting Kafka")
            broker = start_kafka()
            stack.callback(broker.close)
            bootstrap, kafka_version = broker.bootstrap, f"Apache Kafka {broker.version}"
            if broker.pid is not None:
                watched.append(Watched("kafka", broker.pid))
        server: PostgresCluster | ExternalPostgres | None = ExternalPostgres.from_env()
        if server is None:
            log("starting PostgreSQL (durable: fsync on)")
            server = start_postgres(durable=True)
            stack.callback(server.close)
            if server.pid is not None:
                watched.append(Watched("postgres", server.pid, tree=True))
        yield bootstrap, kafka_version, server, watched


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="about 5x fewer events and transactions")
    parser.add_argument(
        "--rate",
        type=float,
        default=GOAL_RATE,
        help=f"events/s of the fixed-rate phases (default {GOAL_RATE:.0f}, where the latency goal applies)",
    )
    parser.add_argument("--role", choices=["raw-consumer", "relay", "bus-consumer"], help=argparse.SUPPRESS)
    parser.add_argument("--bootstrap", help=argparse.SUPPRESS)
    parser.add_argument("--topic", help=argparse.SUPPRESS)
    parser.add_argument("--group", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--lifetime", type=float, default=1800.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        return asyncio.run(child_main(args))

    signal.signal(signal.SIGTERM, _raise_interrupt)
    sizes = dataclasses.replace(QUICK if args.quick else FULL, rate=args.rate)
    run_id = uuid.uuid4().hex[:10]
    load_at_start = load_average()
    with infrastructure(run_id) as (bootstrap, kafka_version, server, watched):
        names = [f"bench_{role}_{run_id}" for role in ("producer", "consumer", "writes")]
        try:
            urls = [server.create_database(name) for name in names]
            for url in urls:
                run_bounded(prepare_database(url), 60)
            pg_facts = run_bounded(server_facts(server.admin_url), 30)
            machine = (
                f"machine: {os.cpu_count()} cores, load average at start {load_at_start} | "
                f"Python {platform.python_version()} (asyncio) | {kafka_version} | {pg_facts} | "
                f"aiokafka {dist_version('aiokafka')}, asyncpg {dist_version('asyncpg')}, "
                f"SQLAlchemy {dist_version('sqlalchemy')}"
            )
            setup = Setup(bootstrap, urls[0], urls[1], urls[2], run_id=run_id, sizes=sizes, watched=watched)
            timeout = 400.0 if args.quick else 900.0
            try:
                return run_bounded(bench(setup, machine), timeout)
            except asyncio.CancelledError:
                log("interrupted: stopped the child processes, now stopping Kafka and PostgreSQL")
                return 130
        finally:
            if isinstance(server, ExternalPostgres):
                # a shared server is tidied; a local cluster is deleted whole
                for name in names:
                    with contextlib.suppress(Exception):
                        server.drop_database(name)


if __name__ == "__main__":
    sys.exit(main())
