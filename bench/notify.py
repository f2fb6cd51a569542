"""Notify benchmark: events -> rendered e-mails sent over SMTP, beside raw aiosmtplib sends.

    .venv/bin/python bench/notify.py [--events 3000] [--rate 200]

One run starts its own PostgreSQL cluster (fsync on; DATABASE_URL names an existing server instead)
and an aiosmtpd server in its own process (so it does not share this process's interpreter), then:

  (a) raw: the same e-mails (built by notify's own MIME builder) sent with aiosmtplib over the same
      number of reused connections as notify's SMTP channel, back to back; then at a fixed rate;
  (b) notify: 受理 events fed to notify's consumers (EventConsumer + handlers, inbox row and message
      rows in one PostgreSQL transaction per event; in-process bus with 3 partitions and one consumer
      each, as the worker runs one per Kafka partition) while the dispatcher claims,
      sends and records them, back to back; then at the same fixed rate. Latency runs from the
      event's time to the message's hand-off (the SMTP server's 250, recorded as completed_at).

  (c) the same burst again, with the dispatcher started only once every event is consumed: each
      stage's rate on its own (where (b)'s time goes).

Goal: (b) throughput >= 0.7 x (a). Each phase must deliver every message, or the run fails.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# `python bench/notify.py` puts bench/ first on sys.path, where this very file would shadow the
# notify package.
if sys.path and Path(sys.path[0]).resolve() == REPO / "bench":
    sys.path[0] = str(REPO)

import aiosmtplib  # noqa: E402
import sqlalchemy as sa  # noqa: E402

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

CONNECTIONS = 4
PARTITIONS = 3
SENDER = "noreply@wucheng.gov.cn"
SERVER = """
import sys, time
from aiosmtpd.controller import Controller
class Count:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
controller = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return (
        ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]
        if ordered
        else float("nan")
    )


def accepted(i: int) -> Event:
    case = f"11330702MB12345674330520001000{20261125 + i // 10000:08d}{i % 10000:04d}"
    data = ApplicationAccepted(
        application_id=f"app-{i}", case_number=case, item_id="wc-mzj-lnyd", item_version=1,
        department_code="wc-mzj", applicant_kind="person", applicant_id=CITIZEN_ID, applicant_name="王建国",
        accepted_at=datetime.now(UTC), promised_date=None,
    )  # fmt: skip
    return new_event(
        type="intake.application.accepted", source="/intake", subject=data.application_id, data=data
    )


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


async def platform(
    url: str, port: int, events: list[Event], rate: float | None, staged: bool = False
) -> tuple[float, list[float], float]:
    """Events into notify's consumers while its dispatcher sends; (seconds, latencies, consumed by).

    `staged`: the dispatcher starts only once every event is consumed, to time each stage alone.
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
    if not staged:
        tasks.append(asyncio.create_task(dispatcher.run(stop)))
    ids = [e.id for e in events]
    start = time.monotonic()
    for k, event in enumerate(events):
        if rate:
            await asyncio.sleep(max(0.0, start + k / rate - time.monotonic()))
        event = event.model_copy(update={"time": datetime.now(UTC)})
        value, headers = encode(event)
        topic = f"b{k % PARTITIONS}"  # keys spread over partitions as Kafka's partitioner does
        await broker.append([Record(topic=topic, key=event.subject.encode(), value=value, headers=headers)])
    query = sa.select(Message.event_id, Message.completed_at).where(
        Message.channel == "email", Message.status == "delivered", Message.event_id.in_(ids)
    )
    deadline = time.monotonic() + 600
    consumed = float("nan")
    while True:
        if consumed != consumed and sum(c.handled for c in consumers) >= len(events):
            consumed = time.monotonic() - start
            if staged:
                tasks.append(asyncio.create_task(dispatcher.run(stop)))
        async with sessions() as session:
            done = (await session.execute(query)).all()
        if len(done) == len(events) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - start
    stop.set()
    await asyncio.gather(*tasks)
    await dispatcher.close()
    async with sessions() as session:
        stamps = dict((await session.execute(sa.select(Message.event_id, Message.created_at))).all())
        failed = await session.scalar(sa.select(sa.func.count()).where(Message.status != "delivered"))
    await engine.dispose()
    if len(done) != len(events) or failed:
        raise SystemExit(f"notify delivered {len(done)} of {len(events)} e-mails ({failed} not delivered)")
    # created_at is the consumer's time of the event; completed_at the SMTP server's acceptance.
    latencies = [(finished - stamps[event_id]).total_seconds() for event_id, finished in done if finished]
    return elapsed, latencies, consumed


async def main(args: argparse.Namespace) -> None:
    external = ExternalPostgres.from_env()
    cluster = None if external is not None else start_postgres(durable=True)
    pg = external if external is not None else cluster
    assert pg is not None
    port = free_port()
    server = subprocess.Popen(  # noqa: ASYNC220 (started once, before anything is measured)
        [sys.executable, "-c", SERVER, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == "ready"
        urls = [pg.create_database(f"notify_bench_{os.getpid()}_{k}") for k in range(3)]
        for url in urls:
            await asyncio.to_thread(upgrade, MIGRATIONS_DIR, url)
            engine = make_engine(url)
            async with make_sessionmaker(engine)() as session:
                await save_contact(
                    session, CITIZEN_ID, ContactUpdate(email="wang.jianguo@example.com", channels=["email"]),
                    datetime.now(UTC),
                )  # fmt: skip
            await engine.dispose()
        n = args.events
        burst = [accepted(i) for i in range(n)]
        paced = [accepted(n + i) for i in range(int(args.rate * args.seconds))]
        mail = Outbound(
            "m", "wang.jianguo@example.com", "申请已受理", "您的申请已受理。" * 8, "<p>已受理</p>"
        )
        raw_s, _ = await raw(port, [mail] * n, None)
        raw_paced_s, raw_lat = await raw(port, [mail] * len(paced), args.rate)
        plat_s, _, consumed_s = await platform(urls[0], port, burst, None)
        plat_paced_s, plat_lat, _ = await platform(urls[1], port, paced, args.rate)
        staged_s, _, staged_consumed_s = await platform(
            urls[2], port, [accepted(9000 + i) for i in range(n)], None, True
        )
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(10)
        if cluster is not None:
            cluster.close()
    load = os.getloadavg()[0]
    print(
        f"machine: {os.cpu_count()} cores, load {load:.2f}; {postgres_version(cluster.bindir) if cluster else pg!r}"
    )

    def p50_99(values: list[float]) -> str:
        return f"{pct(values, 50) * 1e3:.1f} / {pct(values, 99) * 1e3:.1f} ms"

    rows = [
        ("(a) raw aiosmtplib, back to back", f"{n / raw_s:,.0f} mails/s", ""),
        ("(b) notify events -> sent e-mails, back to back", f"{n / plat_s:,.0f} messages/s", ""),
        ("(b) consumers done (events -> message rows)", f"{n / consumed_s:,.0f} events/s", ""),
        ("(c) stage alone: consumers (events -> rows)", f"{n / staged_consumed_s:,.0f} events/s", ""),
        ("(c) stage alone: dispatcher (rows -> SMTP 250)", f"{n / (staged_s - staged_consumed_s):,.0f} messages/s", ""),
        ("(b) / (a) throughput", f"{raw_s / plat_s:.2f}", "PASS" if raw_s / plat_s >= 0.7 else "FAIL (goal 0.7)"),
        (f"(a) raw @ {args.rate:g}/s: send latency p50 / p99", p50_99(raw_lat), ""),
        (f"(b) notify @ {args.rate:g}/s: event -> hand-off p50 / p99", p50_99(plat_lat), ""),
        (f"(b) achieved @ {args.rate:g}/s", f"{len(paced) / plat_paced_s:,.0f}/s (raw {len(paced) / raw_paced_s:,.0f})", ""),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    for name, value, verdict in rows:
        print(f"{name:<{width}}  {value:>28}  {verdict}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    asyncio.run(main(parser.parse_args()))
