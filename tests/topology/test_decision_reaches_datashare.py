"""Real Kafka and PostgreSQL, the back-office and datashare workers as separate processes: an item and an
accepted application go in as events, the decision comes out on `backoffice.tasks` (which intake reads)
and datashare registers the certificate it issued."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from backoffice.db import MIGRATIONS_DIR as BACKOFFICE_MIGRATIONS
from contracts.envelope import Event
from datashare.db import MIGRATIONS_DIR as DATASHARE_MIGRATIONS
from datashare.main import create_app as datashare_app
from messaging.kafka import KafkaConfig, KafkaTransport
from messaging.records import Record, decode, encode
from servicekit.testing import OPERATOR, TEST_KEY, app_client, as_caller, migrate

# The back office's own test helpers, loaded by path: tests/ spans services, services never import each other.
_SUPPORT_PATH = Path(__file__).resolve().parents[2] / "services" / "backoffice" / "tests" / "support.py"
_spec = importlib.util.spec_from_file_location("backoffice_test_support", _SUPPORT_PATH)
assert _spec is not None
assert _spec.loader is not None
support: Any = importlib.util.module_from_spec(_spec)
sys.modules["backoffice_test_support"] = support
_spec.loader.exec_module(support)
APPLICANT, MZJ, Clock, accepted, at = (
    support.APPLICANT,
    support.MZJ,
    support.Clock,
    support.accepted,
    support.at,
)
backoffice, caller, item_published = support.backoffice, support.caller, support.item_published

T = TypeVar("T")


@pytest.fixture
async def databases(pg_cluster: Any) -> dict[str, str]:
    urls = {}
    for service, migrations in (("backoffice", BACKOFFICE_MIGRATIONS), ("datashare", DATASHARE_MIGRATIONS)):
        urls[service] = pg_cluster.create_database(f"{service}_{os.urandom(4).hex()}")
        await migrate(migrations, urls[service])
    return urls


@pytest.fixture
async def workers(databases: dict[str, str], kafka_bootstrap: str) -> AsyncIterator[None]:
    procs = []
    for service, url in databases.items():
        prefix = service.upper()
        env = {
            **os.environ,
            f"{prefix}_DATABASE_URL": url,
            f"{prefix}_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            f"{prefix}_INTERNAL_TOKEN_KEY": TEST_KEY.decode(),
        }
        procs.append(await asyncio.create_subprocess_exec(sys.executable, "-m", f"{service}.worker", env=env))
    yield
    for proc in procs:
        proc.terminate()
    for proc in procs:
        await asyncio.wait_for(proc.wait(), 30)
        assert proc.returncode == 0, "a worker did not stop cleanly on SIGTERM"


async def eventually(get: Callable[[], Awaitable[T | None]], timeout_s: float = 60) -> T:
    deadline = time.monotonic() + timeout_s
    while (found := await get()) is None:
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.2)
    return found


async def publish(transport: KafkaTransport, topic: str, event: Event) -> None:
    value, headers = encode(event)
    producer = transport.producer()
    try:
        await producer.send_batch(
            [Record(topic=topic, key=event.subject.encode(), value=value, headers=headers)]
        )
    finally:
        await producer.stop()


async def read_until(transport: KafkaTransport, topic: str, wanted: Callable[[Event], bool]) -> Event:
    """The first event on `topic` that `wanted` accepts, read as any consumer group would."""
    subscription = transport.subscription(f"test-{uuid.uuid4().hex[:8]}", [topic])
    await subscription.start()
    try:

        async def poll() -> Event | None:
            return next((e for e in map(decode, await subscription.poll(100, 0.5)) if wanted(e)), None)

        return await eventually(poll)
    finally:
        await subscription.stop()


async def test_a_decision_reaches_intake_and_datashare_registers_the_certificate(
    databases: dict[str, str], workers: None, kafka_bootstrap: str
) -> None:
    transport = KafkaTransport(KafkaConfig(bootstrap_servers=kafka_bootstrap, client_id="backoffice-test"))
    await transport.ensure_topics(["catalog.items", "intake.applications", "backoffice.tasks"])
    clock = Clock(at("2025-09-26"))
    application = f"app-{uuid.uuid4().hex[:12]}"
    async with (
        backoffice(databases["backoffice"], clock) as (_app, client),
        app_client(datashare_app(databases["datashare"], TEST_KEY)) as datashare,
    ):
        await publish(transport, "catalog.items", item_published())
        await publish(transport, "intake.applications", accepted(application))

        async def task() -> dict[str, Any] | None:
            response = await client.get(f"/applications/{application}/task", headers=caller(MZJ))
            return response.json() if response.status_code == 200 else None

        received = await eventually(task)
        assert received["deadline_date"] == "2025-10-10"
        clock.set("2025-10-09")
        body = {"valid_until": "2030-10-08"}
        approved = await client.post(f"/tasks/{received['id']}/approve", json=body, headers=caller(MZJ))
        assert approved.status_code == 200, approved.text
        number = approved.json()["certificate_number"]

        # What intake's consumer reads: the decision, keyed by the application, with the result.
        decided = await read_until(
            transport,
            "backoffice.tasks",
            lambda e: e.type == "backoffice.task.decided" and e.subject == application,
        )
        assert (decided.data["decision"], decided.data["certificate_number"]) == ("approved", number)
        assert decided.data["result_name"] == "老年人优待证"

        registered = await read_until(
            transport,
            "datashare.certificates",
            lambda e: e.type == "datashare.certificate.registered" and e.data["number"] == number,
        )
        assert (registered.data["subject_id"], registered.data["issuer_code"]) == (APPLICANT, "wc-mzj")
        certificate = await datashare.get(
            f"/certificates/{registered.data['certificate_id']}", headers=as_caller(OPERATOR)
        )
        assert certificate.status_code == 200, certificate.text
        assert (certificate.json()["certificate_type"], certificate.json()["valid_until"]) == (
            "elderly_card",
            "2030-10-08",
        )
        trail = (await client.get(f"/tasks/{received['id']}/audit", headers=caller(MZJ))).json()
        assert [(e["action"], e["actor"]) for e in trail] == [
            ("received", "backoffice"),
            ("approved", "mzj-li"),
        ]
