"""Event bus benchmark: raw aiokafka vs the platform's outbox -> relay -> Kafka -> idempotent consumer.

    .venv/bin/python bench/bus.py [--quick] [--rate N] [--notify idle|every]

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

This file is the entry point and the orchestration; the parts live in bench/bus_*.py: the common
setup (bus_common), /proc accounting (bus_stats), child processes (bus_child, bus_roles), the
measured runs (bus_runs) and the report (bus_report).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# `python bench/bus.py` puts bench/ first on sys.path, where a bench script named like a standard
# module (bench/platform.py) would shadow it; the repository root instead, before any other import,
# also makes the `bench.bus_*` modules importable under the names mypy gives them.
if sys.path and Path(sys.path[0]).resolve() == REPO / "bench":
    sys.path[0] = str(REPO)

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import dataclasses  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import signal  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Coroutine, Iterator  # noqa: E402
from importlib.metadata import version as dist_version  # noqa: E402
from types import FrameType  # noqa: E402
from typing import Any, TypeVar  # noqa: E402

from aiokafka.admin import AIOKafkaAdminClient  # noqa: E402

from bench.bus_common import (  # noqa: E402
    FULL,
    GOAL_RATE,
    NOTIFY_FUNCTIONS,
    OUTSIDE_LOAD_WARN,
    QUICK,
    Setup,
    log,
    prepare_database,
)
from bench.bus_report import bus_rows, print_table, raw_rows, write_rows  # noqa: E402
from bench.bus_roles import child_main  # noqa: E402
from bench.bus_runs import run_bus, run_raw, run_writes  # noqa: E402
from bench.bus_stats import Watched  # noqa: E402
from localinfra.kafka import start_kafka  # noqa: E402
from localinfra.pg_admin import plain_dsn  # noqa: E402
from localinfra.pg_external import ExternalPostgres  # noqa: E402
from localinfra.postgres import PostgresCluster, start_postgres  # noqa: E402
from messaging.kafka import KafkaConfig, KafkaTransport  # noqa: E402

T = TypeVar("T")


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
    parser.add_argument(
        "--notify",
        choices=sorted(NOTIFY_FUNCTIONS),
        default="idle",
        help="the outbox trigger: NOTIFY only while a relay waits (default, messaging.wakeup) or on every insert",
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
                run_bounded(prepare_database(url, args.notify), 60)
            pg_facts = run_bounded(server_facts(server.admin_url), 30)
            machine = (
                f"machine: {os.cpu_count()} cores, load average at start {load_at_start} | "
                f"Python {platform.python_version()} (asyncio) | {kafka_version} | {pg_facts}, "
                f"outbox NOTIFY: {args.notify} | "
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
