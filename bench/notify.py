"""Notify benchmark: events -> rendered e-mails sent over SMTP, beside raw aiosmtplib sends.

    .venv/bin/python bench/notify.py [--events 3000] [--rate 50] [--seconds 10] [--no-wait]

One run starts its own PostgreSQL cluster (fsync on; DATABASE_URL names an existing server instead)
and an aiosmtpd server in its own process, then:

  (a) raw: the same e-mails (built by notify's own MIME builder) sent with aiosmtplib over the same
      number of reused connections as notify's SMTP channel, back to back; then at a fixed rate;
  (b) notify: 受理 events fed to notify's consumers (EventConsumer + handlers, a batch of events per
      transaction; in-process bus, 3 partitions, one consumer each) in this process, while the
      dispatcher runs as `python -m notify.worker` with NOTIFY_ROLE=dispatcher (the layout for more
      than one core); back to back, then at the fixed rate. (b1): the same with the dispatcher
      beside the consumers in one process (NOTIFY_ROLE=all). Latency runs from the event's time to
      the SMTP server's 250 (the hand-off, which the dispatcher stamps as completed_at);
  (c) the burst again, the dispatcher process started once every event is consumed: each stage alone.

Goal: (b) throughput >= 0.7 x (a). Every phase must deliver every message, or the run fails. CPU per
message comes from /proc: this process, the dispatcher process, the SMTP server, PostgreSQL. The run
first waits (10 minutes at most; --no-wait skips it) for other benchmarks to end and the load to drop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# `python bench/notify.py` puts bench/ first on sys.path, where this very file would shadow the
# notify package.
if sys.path and Path(sys.path[0]).resolve() == REPO / "bench":
    sys.path[0] = str(REPO)

import aiosmtplib  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.notify_procs import CONNECTIONS, SERVER, Cpu, dispatcher_process, scalar, wait_for_quiet  # noqa: E402
from contracts.catalog import ItemPublished  # noqa: E402
from contracts.envelope import Event, new_event  # noqa: E402
from contracts.intake import ApplicationAccepted  # noqa: E402
from localinfra.pg_external import ExternalPostgres  # noqa: E402
from localinfra.ports import free_port  # noqa: E402
from localinfra.postgres import postgres_version, start_postgres  # noqa: E402
from messaging.consumer import EventConsumer  # noqa: E402
from messaging.inprocess import InProcessBroker  # noqa: E402
from messaging.records import Record, encode  # noqa: E402
from notify.channels import Outbound  # noqa: E402
from notify.channels.email import SmtpChannel, build_email  # noqa: E402
from notify.db import MIGRATIONS_DIR  # noqa: E402
from notify.dispatcher import Dispatcher  # noqa: E402
from notify.handlers import make_handlers  # noqa: E402
from notify.models import Message  # noqa: E402
from notify.schemas import ContactUpdate  # noqa: E402
from notify.service import save_contact  # noqa: E402
from servicekit.db import make_engine, make_sessionmaker  # noqa: E402
from servicekit.migrations import upgrade  # noqa: E402

CITIZEN_ID = "330702195003150013"
ITEM = "wc-mzj-lnyd"
PARTITIONS = 3
SENDER = "noreply@wucheng.gov.cn"


def p50_99(values: list[float]) -> str:
    """Nearest-rank percentiles in milliseconds."""
    ordered = sorted(values) or [0.0]
    at = [ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))] for p in (50, 99)]
    return f"{at[0] * 1e3:.1f} / {at[1] * 1e3:.1f} ms"


def accepted(i: int) -> Event:
    case = f"11330702MB12345674330520001000{20261125 + i // 10000:08d}{i % 10000:04d}"
    data = ApplicationAccepted(
        application_id=f"app-{i}", case_number=case, item_id=ITEM, item_version=1,
        department_code="wc-mzj", applicant_kind="person", applicant_id=CITIZEN_ID, applicant_name="王建国",
        accepted_at=datetime.now(UTC), promised_date=date(2026, 12, 2),
    )  # fmt: skip
    return new_event(
        type="intake.application.accepted", source="/intake", subject=data.application_id, data=data
    )


def item_published() -> Event:
    data = ItemPublished(
        item_id=ITEM, version=1, base_code="330520001000", implementation_code="11330702002609732X4330520001000",
        name="老年人优待证办理", department_code="wc-mzj", handling_type="承诺件", deciding_level="district",
        promised_limit_days=5, promised_limit_unit="工作日", trips=0, minsheng=True, materials=[],
        effective_from=date(2025, 1, 1),
    )  # fmt: skip
    return new_event(type="catalog.item.published", source="/catalog", subject=ITEM, data=data)


async def raw(port: int, mails: list[Outbound], rate: float | None) -> tuple[float, list[float]]:
    """Send with plain aiosmtplib over CONNECTIONS reused connections; returns (seconds, latencies)."""
    queue: asyncio.Queue[tuple[float, Outbound]] = asyncio.Queue()
    start = time.monotonic()
    for k, mail in enumerate(mails):
        queue.put_nowait((start + (k / rate if rate else 0.0), mail))
    latencies: list[float] = []

    async def sender() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
        await client.connect()
        while not queue.empty():
            due, mail = queue.get_nowait()
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            await client.send_message(build_email(mail, SENDER, "婺城政务服务"), sender=SENDER)
            latencies.append(time.monotonic() - due)
        await client.quit()

    await asyncio.gather(*(sender() for _ in range(CONNECTIONS)))
    return time.monotonic() - start, latencies


@dataclass
class Run:
    seconds: float  # first event to last hand-off, as the bench saw it
    consumed_s: float  # first event to the last one consumed
    dispatch_s: float  # the dispatcher's first claim to its last hand-off (database stamps)
    latencies: list[float]  # event time -> hand-off
    stages: dict[str, list[float]]  # event -> message row -> claimed -> handed over


async def platform(
    url: str, port: int, cpu: Cpu, events: list[Event], rate: float | None, layout: str
) -> Run:
    """Events into notify's consumers while its dispatcher sends them.

    layout: "one" process (the dispatcher beside the consumers, NOTIFY_ROLE=all), "two" (the
    dispatcher in its own process), "staged" (that process starts once every event is consumed).
    """
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    broker = InProcessBroker()
    # One consumer per partition, as notify's worker runs one per Kafka partition (NOTIFY_CONSUMERS).
    consumers = [
        EventConsumer(
            "notify",
            broker.subscription(f"notify-{k}", [f"b{k}"]),
            sessions,
            make_handlers(),
            broker.producer(),
        )
        for k in range(PARTITIONS)
    ]
    dispatcher = Dispatcher(
        sessions, {"email": SmtpChannel("127.0.0.1", port, SENDER, connections=CONNECTIONS)}, rates={}
    )
    stop = asyncio.Event()
    tasks = [asyncio.create_task(c.run(stop)) for c in consumers]
    async with contextlib.AsyncExitStack() as stack:
        if layout == "one":
            tasks.append(asyncio.create_task(dispatcher.run(stop)))
        elif layout == "two":
            await stack.enter_async_context(dispatcher_process(url, port, cpu))
        sent_at: dict[str, datetime] = {}
        start = time.monotonic()
        for k, event in enumerate(events):
            if rate:
                await asyncio.sleep(max(0.0, start + k / rate - time.monotonic()))
            event = event.model_copy(update={"time": datetime.now(UTC)})
            sent_at[event.id] = event.time
            value, headers = encode(event)
            topic = f"b{k % PARTITIONS}"  # keys spread over partitions as Kafka's partitioner does
            await broker.append(
                [Record(topic=topic, key=event.subject.encode(), value=value, headers=headers)]
            )
        # A count on a fresh database: cheap enough not to disturb what it watches.
        delivered = sa.select(sa.func.count()).where(
            Message.channel == "email", Message.status == "delivered"
        )
        deadline = time.monotonic() + 600
        consumed = float("nan")
        while time.monotonic() < deadline:
            if consumed != consumed and sum(c.handled for c in consumers) >= len(events):
                consumed = time.monotonic() - start
                if layout == "staged":
                    await stack.enter_async_context(dispatcher_process(url, port, cpu))
            if await scalar(engine, delivered) == len(events):
                break
            await asyncio.sleep(0.1)
        elapsed = time.monotonic() - start
    stop.set()
    await asyncio.gather(*tasks)
    await dispatcher.close()
    async with sessions() as session:
        stamps = sa.select(Message.event_id, Message.created_at, Message.sent_at, Message.completed_at)
        done = (
            await session.execute(stamps.where(Message.channel == "email", Message.status == "delivered"))
        ).all()
        failed = await session.scalar(sa.select(sa.func.count()).where(Message.status != "delivered"))
    await engine.dispose()
    if len(done) != len(events) or failed:
        raise SystemExit(f"notify delivered {len(done)} of {len(events)} e-mails ({failed} not delivered)")
    seconds = [
        (r.created_at - sent_at[r.event_id], r.sent_at - r.created_at, r.completed_at - r.sent_at)
        for r in done
    ]
    stages = {
        name: [t[k].total_seconds() for t in seconds]
        for k, name in enumerate(("event -> row", "-> claimed", "-> SMTP 250"))
    }
    span = (max(r.completed_at for r in done) - min(r.sent_at for r in done)).total_seconds()
    latencies = [(r.completed_at - sent_at[r.event_id]).total_seconds() for r in done]
    return Run(elapsed, consumed, span, latencies, stages)


async def prepare(url: str) -> None:
    await asyncio.to_thread(upgrade, MIGRATIONS_DIR, url)
    engine = make_engine(url)
    async with (sessions := make_sessionmaker(engine))() as session:
        contact = ContactUpdate(email="wang.jianguo@example.com", channels=["email"])
        await save_contact(session, CITIZEN_ID, contact, datetime.now(UTC))
    async with sessions.begin() as session:  # notify's item-name read model, as catalog.items fills it
        await make_handlers()["catalog.item.published"](session, item_published())
    await engine.dispose()


async def main(args: argparse.Namespace) -> None:
    quiet = "not waited" if args.no_wait else wait_for_quiet(600)
    load = os.getloadavg()[0]
    external = ExternalPostgres.from_env()
    cluster = None if external is not None else start_postgres(durable=True)
    pg = external if external is not None else cluster
    assert pg is not None
    port = free_port()
    server = subprocess.Popen(  # noqa: ASYNC220 (started once, before anything is measured)
        [sys.executable, "-c", SERVER, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    cpu = Cpu(server.pid, cluster.pid if cluster is not None else None)
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == "ready"
        urls = [pg.create_database(f"notify_bench_{os.getpid()}_{k}") for k in range(4)]
        for url in urls:
            await prepare(url)
        n = args.events
        paced_n = int(args.rate * args.seconds)
        mail = Outbound(
            "m", "wang.jianguo@example.com", "申请已受理", "您的申请已受理。" * 8, "<p>已受理</p>"
        )
        before = cpu.read()
        raw_s, _ = await raw(port, [mail] * n, None)
        cpus = {"(a)": Cpu.per_message(before, cpu.read(), n)}
        raw_paced_s, raw_lat = await raw(port, [mail] * paced_n, args.rate)
        runs: dict[str, Run] = {}
        for k, (name, layout, rate, count) in enumerate(
            [("two", "two", None, n), ("two paced", "two", args.rate, paced_n), ("one", "one", None, n),
             ("staged", "staged", None, n)]
        ):  # fmt: skip
            before = cpu.read()
            runs[name] = await platform(
                urls[k], port, cpu, [accepted(k * 100_000 + i) for i in range(count)], rate, layout
            )
            cpus[name] = Cpu.per_message(before, cpu.read(), count)
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(10)
        if cluster is not None:
            cluster.close()
    version = postgres_version(cluster.bindir) if cluster else repr(pg)
    print(f"machine: {os.cpu_count()} cores, load {load:.2f} at start ({quiet}); {version}, fsync on")

    two, one, staged, paced = runs["two"], runs["one"], runs["staged"], runs["two paced"]
    ratio, raw_paced = raw_s / two.seconds, paced_n / raw_paced_s
    stages = " | ".join(f"{name}: {p50_99(values)}" for name, values in paced.stages.items())
    rows = [
        ("(a) raw aiosmtplib, back to back", f"{n / raw_s:,.0f} mails/s", ""),
        ("(b) notify, dispatcher in its own process: back to back", f"{n / two.seconds:,.0f} messages/s", ""),
        ("(b) consumers done (events -> message rows)", f"{n / two.consumed_s:,.0f} events/s", ""),
        ("(b1) notify in one process (NOTIFY_ROLE=all): back to back", f"{n / one.seconds:,.0f} messages/s", ""),
        ("(c) stage alone: consumers (events -> rows)", f"{n / staged.consumed_s:,.0f} events/s", ""),
        ("(c) stage alone: dispatcher (first claim -> last SMTP 250)", f"{n / staged.dispatch_s:,.0f} messages/s", ""),
        ("(b) / (a) throughput", f"{ratio:.2f}", "PASS" if ratio >= 0.7 else "FAIL (goal 0.7)"),
        ("(b1) / (a) throughput, one process", f"{raw_s / one.seconds:.2f}", ""),
        (f"(a) raw @ {args.rate:g}/s: send latency p50 / p99", p50_99(raw_lat), ""),
        (f"(b) notify @ {args.rate:g}/s: event -> hand-off p50 / p99", p50_99(paced.latencies), ""),
        (f"(b) achieved @ {args.rate:g}/s", f"{paced_n / paced.seconds:,.0f}/s", f"raw {raw_paced:,.0f}/s"),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    for name, value, verdict in rows:
        print(f"{name:<{width}}  {value:>20}  {verdict}")
    print(f"(b) @ {args.rate:g}/s by stage, p50 / p99: {stages}")
    for name, figures in cpus.items():
        if "paced" not in name:
            print(f"CPU {name}, back to back: {figures}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--no-wait", action="store_true", help="measure at once, even on a busy machine")
    asyncio.run(main(parser.parse_args()))
