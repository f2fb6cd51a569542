"""A 上报件 reaches a municipal system over real Kafka, and its answer reaches the citizen's pickup.

Intake and back office run their workers as separate processes on real PostgreSQL and Kafka. A test
client stands in for the municipal exit-entry bureau's system (金华市出入境管理局, `jh-crj`): it reads
`intake.applications` with confluent-kafka (librdkafka, not the platform's aiokafka), takes the
passport application decided at city level, and answers through the back office's HTTP API as its own
system client. The decision comes back to intake, which sends a pickup code; the window hands the
passport over with it. A 一件事 bundle of two items reaches its two departments the same way.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import Any, TypeVar

import httpx
import pytest
from confluent_kafka import Consumer

from backoffice.db import MIGRATIONS_DIR as BACKOFFICE_MIGRATIONS
from backoffice.main import create_app as backoffice_app
from contracts.catalog import ItemPublished, MaterialSpec
from contracts.envelope import Event, new_event
from intake.db import MIGRATIONS_DIR as INTAKE_MIGRATIONS
from intake.main import create_app as intake_app
from messaging.kafka import KafkaConfig, KafkaTransport
from messaging.records import Record, encode
from servicekit.identity import Identity
from servicekit.testing import TEST_KEY, app_client, as_caller, migrate

T = TypeVar("T")
WANG = "330702195003150013"
IMPLEMENTER = "11330702002609732X"  # 婺城分局, the district body that takes 出入境 applications in
CITIZEN = Identity(
    kind="citizen",
    client_id="zlb-app",
    scopes=frozenset({"catalog:read", "intake:apply", "intake:read"}),
    citizen_id=WANG,
    citizen_name="王建国",
)
WINDOW = Identity(
    kind="staff",
    client_id="window-A01",
    window="A01",
    scopes=frozenset({"intake:apply", "intake:read", "hall:operate"}),
)


def municipal(code: str) -> Identity:
    """A department's or municipal body's system client, as the gateway forwards it."""
    scopes = frozenset({"backoffice:read", "backoffice:decide", "intake:read"})
    return Identity(kind="system", client_id=f"dept-{code}", scopes=scopes, department=code)


def item(item_id: str, base_code: str, **fields: Any) -> Event:
    data = ItemPublished(
        item_id=item_id,
        version=1,
        base_code=base_code,
        implementation_code=IMPLEMENTER + "4" + base_code,
        promised_limit_unit="工作日",
        minsheng=True,
        materials=[
            MaterialSpec(
                name="居民身份证", required=True, key=True, rongque=False, certificate_type="id_card"
            )
        ],
        effective_from=date(2026, 1, 1),
        **fields,
    )
    return new_event(type="catalog.item.published", source="/catalog", subject=item_id, data=data)


PASSPORT = item(
    "wc-gafj-hz",
    "000106001000",
    name="普通护照签发",
    department_code="wc-gafj",
    handling_type="上报件",
    deciding_level="city",
    deciding_department="jh-crj",
    promised_limit_days=7,
    trips=1,
    result_name="中华人民共和国普通护照",
)
SOCIAL_CARD = item(
    "wc-rsj-sbk",
    "332010001000",
    name="社会保障卡申领",
    department_code="wc-rsj",
    handling_type="承诺件",
    deciding_level="district",
    promised_limit_days=5,
    trips=0,
)


@pytest.fixture
async def databases(pg_cluster: Any) -> dict[str, str]:
    urls = {}
    for service, migrations in (("intake", INTAKE_MIGRATIONS), ("backoffice", BACKOFFICE_MIGRATIONS)):
        urls[service] = pg_cluster.create_database(f"{service}_{os.urandom(4).hex()}")
        await migrate(migrations, urls[service])
    return urls


@pytest.fixture
async def workers(databases: dict[str, str], kafka_bootstrap: str) -> AsyncIterator[KafkaTransport]:
    transport = KafkaTransport(KafkaConfig(bootstrap_servers=kafka_bootstrap, client_id="catalog-standin"))
    await transport.ensure_topics(["catalog.items", "intake.applications", "backoffice.tasks"])
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
    yield transport
    for proc in procs:
        proc.terminate()
    for proc in procs:
        await asyncio.wait_for(proc.wait(), 30)
        assert proc.returncode == 0, "a worker did not stop cleanly on SIGTERM"


async def eventually(get: Callable[[], Awaitable[T | None]], timeout_s: float = 90) -> T:
    deadline = time.monotonic() + timeout_s
    while (found := await get()) is None:
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.3)
    return found


async def publish(transport: KafkaTransport, topic: str, *events: Event) -> None:
    producer = transport.producer()
    try:
        records = []
        for event in events:
            value, headers = encode(event)
            records.append(Record(topic=topic, key=event.subject.encode(), value=value, headers=headers))
        await producer.send_batch(records)
    finally:
        await producer.stop()


class ExternalReader:
    """A system outside the platform reading a topic with confluent-kafka, as an entitled consumer would."""

    def __init__(self, bootstrap: str, group: str, topic: str) -> None:
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": group,
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        self.consumer.subscribe([topic])

    def _next(self, wanted: Callable[[str, dict[str, Any]], bool]) -> tuple[str, dict[str, Any]] | None:
        message = self.consumer.poll(0.5)
        if message is None or message.error() is not None:
            return None
        raw: list[tuple[str, bytes]] = message.headers() or []  # type: ignore[assignment]
        headers = {k: v.decode() for k, v in raw}
        data: dict[str, Any] = json.loads(message.value() or b"null")
        self.consumer.commit(message=message, asynchronous=False)  # handled: the next start goes on from here
        return (headers["ce_type"], data) if wanted(headers["ce_type"], data) else None

    async def first(self, wanted: Callable[[str, dict[str, Any]], bool]) -> tuple[str, dict[str, Any]]:
        return await eventually(lambda: asyncio.to_thread(self._next, wanted))

    def close(self) -> None:
        self.consumer.close()


async def task_of(backoffice: httpx.AsyncClient, application_id: str, department: str) -> dict[str, Any]:
    async def get() -> dict[str, Any] | None:
        response = await backoffice.get(
            f"/applications/{application_id}/task", headers=as_caller(municipal(department))
        )
        return response.json() if response.status_code == 200 else None

    return await eventually(get)


async def status_becomes(intake: httpx.AsyncClient, application_id: str, status: str) -> dict[str, Any]:
    async def get() -> dict[str, Any] | None:
        response = await intake.get(f"/applications/{application_id}", headers=as_caller(CITIZEN))
        return response.json() if response.json()["status"] == status else None

    return await eventually(get)


async def test_a_city_level_application_is_taken_from_the_topic_and_answered_through_the_api(
    databases: dict[str, str], workers: KafkaTransport, kafka_bootstrap: str
) -> None:
    await publish(workers, "catalog.items", PASSPORT)
    async with (
        app_client(intake_app(databases["intake"], TEST_KEY)) as intake,
        app_client(backoffice_app(databases["backoffice"], TEST_KEY)) as backoffice,
    ):
        await eventually(lambda: _item_known(intake, "wc-gafj-hz"))
        body = {
            "item_id": "wc-gafj-hz",
            "applicant_id": WANG,
            "applicant_name": "王建国",
            "delivery": {"method": "pickup"},
        }
        submitted = await intake.post("/applications", json=body, headers=as_caller(CITIZEN))
        assert submitted.status_code == 201, submitted.text
        application = submitted.json()

        bureau = ExternalReader(kafka_bootstrap, f"jh-crj-{uuid.uuid4().hex[:6]}", "intake.applications")
        try:
            # The bureau takes what is decided at its level; here: the case this test submitted.
            _, routed = await bureau.first(
                lambda kind, data: (
                    kind == "intake.application.accepted"
                    and data.get("deciding_department") == "jh-crj"
                    and data["application_id"] == application["id"]
                )
            )
        finally:
            bureau.close()
        assert (routed["application_id"], routed["case_number"]) == (
            application["id"],
            application["case_number"],
        )
        assert (routed["handling_type"], routed["deciding_level"], routed["one_certificate"]) == (
            "上报件",
            "city",
            True,
        )
        assert routed["materials"] == [
            {"name": "居民身份证", "status": "identity", "required": True, "certificate_type": "id_card",
             "evidence_ref": None, "file_id": None, "sha256": None, "size": None, "content_type": None},
        ]  # fmt: skip

        # The bureau answers with its own credentials: it decides the task the back office holds for it.
        task = await task_of(backoffice, routed["application_id"], "jh-crj")
        approved = await backoffice.post(
            f"/tasks/{task['id']}/approve", json={}, headers=as_caller(municipal("jh-crj"))
        )
        assert approved.status_code == 200, approved.text

        ready = await status_becomes(intake, application["id"], "ready")
        assert ready["decision"] == "approved"
        notifier = ExternalReader(kafka_bootstrap, f"sms-{uuid.uuid4().hex[:6]}", "intake.applications")
        try:
            _, sent = await notifier.first(
                lambda kind, data: (
                    kind == "intake.output.ready" and data["application_id"] == application["id"]
                )
            )
        finally:
            notifier.close()
        check = {"case_number": application["case_number"], "pickup_code": sent["pickup_code"]}
        handed = await intake.post("/output/pickups", json=check, headers=as_caller(WINDOW))
        assert (handed.status_code, handed.json()["status"]) == (200, "delivered")
        progress = await intake.post(
            "/progress",
            json={"case_number": application["case_number"], "id_number": WANG},
            headers=as_caller(CITIZEN),
        )
        steps = [(s["status"], s["at"] is not None) for s in progress.json()["history"]]
        assert [s for s, _ in steps] == [
            "submitted",
            "accepted",
            "processing",
            "approved",
            "ready",
            "delivered",
        ]


async def test_a_bundle_of_two_items_reaches_two_departments(
    databases: dict[str, str], workers: KafkaTransport
) -> None:
    await publish(workers, "catalog.items", PASSPORT, SOCIAL_CARD)
    async with (
        app_client(intake_app(databases["intake"], TEST_KEY)) as intake,
        app_client(backoffice_app(databases["backoffice"], TEST_KEY)) as backoffice,
    ):
        for item_id in ("wc-gafj-hz", "wc-rsj-sbk"):
            await eventually(lambda item_id=item_id: _item_known(intake, item_id))  # type: ignore[misc]
        body = {
            "name": "出国前办证一件事",
            "applicant_id": WANG,
            "applicant_name": "王建国",
            "items": [{"item_id": "wc-gafj-hz"}, {"item_id": "wc-rsj-sbk"}],
        }
        created = await intake.post("/bundles", json=body, headers=as_caller(CITIZEN))
        assert created.status_code == 201, created.text
        members = {a["item_id"]: a for a in created.json()["applications"]}
        passport = await task_of(backoffice, members["wc-gafj-hz"]["id"], "jh-crj")
        card = await task_of(backoffice, members["wc-rsj-sbk"]["id"], "wc-rsj")
        assert (passport["department_code"], card["department_code"]) == ("jh-crj", "wc-rsj")
        assert passport["case_number"] != card["case_number"]
        bundle = await eventually(lambda: _bundle_in(intake, created.json()["id"], "processing"))
        assert {a["status"] for a in bundle["applications"]} == {"processing"}


async def _item_known(intake: httpx.AsyncClient, item_id: str) -> bool | None:
    response = await intake.get(f"/items/{item_id}", headers=as_caller(CITIZEN))
    return True if response.status_code == 200 else None


async def _bundle_in(intake: httpx.AsyncClient, bundle_id: str, status: str) -> dict[str, Any] | None:
    bundle: dict[str, Any] = (await intake.get(f"/bundles/{bundle_id}", headers=as_caller(CITIZEN))).json()
    return bundle if bundle["status"] == status else None
