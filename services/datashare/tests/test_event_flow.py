"""On real PostgreSQL and Kafka with `python -m datashare.worker` as its own process: decided, registered, released."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from contracts.backoffice import TaskDecided
from contracts.envelope import new_event
from datashare.db import MIGRATIONS_DIR
from messaging.kafka import KafkaConfig, KafkaTransport
from messaging.records import Record, decode, encode
from servicekit.testing import TEST_KEY, migrate

from .support import NOBODY, OPS, ask, datashare, department

NUMBER = f"退役优待-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def database(pg_cluster: Any) -> str:
    """Migrated before the worker starts, as the migrate role runs before the worker role."""
    url: str = pg_cluster.create_database(f"datashare_{os.urandom(4).hex()}")
    await migrate(MIGRATIONS_DIR, url)
    return url


@pytest.fixture
async def worker(database: str, kafka_bootstrap: str) -> AsyncIterator[None]:
    env = {
        **os.environ,
        "DATASHARE_DATABASE_URL": database,
        "DATASHARE_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "DATASHARE_INTERNAL_TOKEN_KEY": TEST_KEY.decode(),
    }
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "datashare.worker", env=env)
    yield
    proc.terminate()
    assert await asyncio.wait_for(proc.wait(), 30) == 0, "the worker did not stop cleanly on SIGTERM"


async def _publish_decision(bootstrap: str) -> None:
    decided = TaskDecided(
        application_id=uuid.uuid4().hex,
        case_number="113307020026456465433072000100020261125" + "0001",
        department_code="wc-tyjrj",
        decision="approved",
        certificate_type="veteran_card",
        certificate_number=NUMBER,
        subject_id=NOBODY,
        decided_at=datetime.now(UTC),
    )
    event = new_event(
        type="backoffice.task.decided", source="/backoffice", subject=decided.application_id, data=decided
    )
    value, headers = encode(event)
    producer = KafkaTransport(
        KafkaConfig(bootstrap_servers=bootstrap, client_id="test-backoffice")
    ).producer()
    await producer.send_batch([Record("backoffice.tasks", event.subject.encode(), value, headers)])
    await producer.stop()


async def _seen_on_kafka(bootstrap: str, topic: str, wanted: dict[str, str], timeout_s: float = 60) -> bool:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"test-{uuid.uuid4().hex}", auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                for r in records:
                    event = decode(Record(topic, r.key, r.value, list(r.headers)))
                    if all(event.data.get(k) == v for k, v in wanted.items()):
                        return True
        return False
    finally:
        await consumer.stop()


async def test_a_certificate_registered_by_event_is_released_to_the_entitled_only(
    database: str, kafka_bootstrap: str, worker: None
) -> None:
    async with datashare(database) as ds:
        await ds.entitle("wc-mzj", "veteran_card")
        await _publish_decision(kafka_bootstrap)
        deadline = time.monotonic() + 60
        while True:
            held = await ds.client.post("/certificates/search", json={"subject_id": NOBODY}, headers=OPS)
            if held.json() or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.3)
        assert [c["number"] for c in held.json()] == [NUMBER], "the worker never registered the certificate"
        granted = await ds.client.post(
            "/evidence-requests", json=ask("veteran_card", NOBODY), headers=department("wc-mzj")
        )
        assert granted.status_code == 201, granted.text
        assert granted.json()["evidence"]["issuer_code"] == "wc-tyjrj"
        denied = await ds.client.post(
            "/evidence-requests", json=ask("veteran_card", NOBODY), headers=department("wc-rsj")
        )
        assert denied.json()["code"] == "no_access_rule"
        rows = await ds.log_rows()
        assert [(r.consumer_code, r.outcome) for r in rows] == [("wc-mzj", "granted"), ("wc-rsj", "denied")]
        assert (await ds.client.get("/access-log/verify", headers=OPS)).json()["ok"] is True
        assert await _seen_on_kafka(kafka_bootstrap, "datashare.certificates", {"number": NUMBER})
        assert await _seen_on_kafka(kafka_bootstrap, "datashare.access", {"request_id": granted.json()["id"]})
