"""bench/bus: sizes, goals, the tables and the event, the business write, phases and their schedule."""

from __future__ import annotations

import asyncio
import math
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.bus_stats import Watched
from contracts.envelope import Event, EventData, new_event
from messaging.outbox import add_event
from messaging.tables import metadata as messaging_metadata
from messaging.wakeup import CONDITIONAL_NOTIFY_SQL, PLAIN_NOTIFY_SQL, TRIGGER_SQL
from servicekit.db import make_engine

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
OUTSIDE_LOAD_WARN = 10.0  # % of the machine used outside the benchmark that makes a phase suspect


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


# The outbox trigger's function as messaging.migration installs it: "idle" (notify_only_idle_relays,
# the current one) or "every" (migration 0001: a NOTIFY from every inserting transaction).
NOTIFY_FUNCTIONS = {"idle": CONDITIONAL_NOTIFY_SQL, "every": PLAIN_NOTIFY_SQL}


async def prepare_database(url: str, notify: str) -> None:
    """Messaging tables with the outbox trigger of messaging.migration (whose helpers need alembic)."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(messaging_metadata.create_all)
            await conn.run_sync(bench_metadata.create_all)
            await conn.exec_driver_sql(NOTIFY_FUNCTIONS[notify])
            await conn.exec_driver_sql(TRIGGER_SQL)
    finally:
        await asyncio.wait_for(engine.dispose(), 10)


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


# --- one run ------------------------------------------------------------------------------------


@dataclass
class Setup:
    bootstrap: str
    producer_db: str
    consumer_db: str
    writes_db: str
    run_id: str
    sizes: Sizes
    watched: list[Watched]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
