"""Across services on real PostgreSQL and Kafka, each worker a separate `python -m <svc>.worker` process.

catalog publishes an item -> intake's read model; intake accepts an application -> back office
creates the task and notify writes the 受理 notice. Nothing calls another service synchronously.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from govcodes.creditcode import check_char

from backoffice.db import MIGRATIONS_DIR as BACKOFFICE_MIGRATIONS
from backoffice.main import create_app as backoffice_app
from catalog.db import MIGRATIONS_DIR as CATALOG_MIGRATIONS
from catalog.main import create_app as catalog_app
from intake.db import MIGRATIONS_DIR as INTAKE_MIGRATIONS
from intake.main import create_app as intake_app
from notify.db import MIGRATIONS_DIR as NOTIFY_MIGRATIONS
from notify.main import create_app as notify_app
from servicekit.identity import Identity
from servicekit.testing import OPERATOR, TEST_KEY, app_client, as_caller, migrate

SERVICES = {
    "catalog": CATALOG_MIGRATIONS,
    "intake": INTAKE_MIGRATIONS,
    "backoffice": BACKOFFICE_MIGRATIONS,
    "notify": NOTIFY_MIGRATIONS,
}
ORG = "11330702" + "MB1234567"
DEPARTMENT: dict[str, str] = {
    "code": "wc-rsj",
    "name": "金华市婺城区人力资源和社会保障局",
    "short_name": "区人力社保局",
    "level": "district",
    "region_code": "330702",
    "credit_code": ORG + check_char(ORG),
    "window": "婺城区行政服务中心一楼综合受理窗口",
    "address": "金华市婺城区宾虹路858号",
    "phone": "0579-82469001",
    "hours": "周一至周五 8:30-12:00 14:30-17:30",
    "complaint_phone": "12345",
}
ITEM: dict[str, Any] = {
    "item_id": "wc-rsj-sbk",
    "base_code": "332012003000",
    "department": "wc-rsj",
    "name": "社会保障卡申领",
    "type": "公共服务",
    "guiding_department": "省人力社保厅",
    "legal_basis": ["《中华人民共和国社会保险法》第五十八条"],
    "materials": [{"name": "居民身份证", "key": True, "certificate_type": "id_card"}],
    "steps": [{"name": "受理", "days": 0}, {"name": "制卡", "days": 5}],
    "legal_limit": {"value": 20, "unit": "工作日"},
    "promised_limit": {"value": 5, "unit": "工作日"},
    "trips": 0,
    "handling_type": "承诺件",
    "location": "婺城区行政服务中心一楼社保窗口",
    "hours": "周一至周五 8:30-12:00 14:30-17:30",
    "consult_phone": "0579-82469001",
    "complaint_phone": "12345",
    "minsheng": True,
}


@pytest.fixture
async def databases(pg_cluster: Any) -> dict[str, str]:
    urls = {}
    for service, migrations in SERVICES.items():
        urls[service] = pg_cluster.create_database(f"{service}_{os.urandom(4).hex()}")
        await migrate(migrations, urls[service])
    return urls


@pytest.fixture
async def workers(databases: dict[str, str], kafka_bootstrap: str) -> AsyncIterator[None]:
    procs = []
    for service, url in databases.items():
        env = {
            **os.environ,
            f"{service.upper()}_DATABASE_URL": url,
            f"{service.upper()}_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            f"{service.upper()}_INTERNAL_TOKEN_KEY": TEST_KEY.decode(),
        }
        procs.append(await asyncio.create_subprocess_exec(sys.executable, "-m", f"{service}.worker", env=env))
    yield
    for proc in procs:
        proc.terminate()
    for proc in procs:
        await asyncio.wait_for(proc.wait(), 30)
        assert proc.returncode == 0, "a worker did not stop cleanly on SIGTERM"


async def eventually(get: Callable[[], Awaitable[httpx.Response]], timeout_s: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout_s
    while True:
        response = await get()
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.2)


async def test_events_flow_from_catalog_through_intake_to_backoffice_and_notify(
    databases: dict[str, str], workers: None
) -> None:
    async with (
        app_client(catalog_app(databases["catalog"], TEST_KEY)) as catalog,
        app_client(intake_app(databases["intake"], TEST_KEY)) as intake,
        app_client(backoffice_app(databases["backoffice"], TEST_KEY)) as backoffice,
        app_client(notify_app(databases["notify"], TEST_KEY)) as notify,
    ):
        for client in (catalog, intake, backoffice, notify):
            client.headers.update(as_caller(OPERATOR))
        citizen = as_caller(
            Identity(
                kind="citizen",
                client_id="zlb-app",
                scopes=frozenset({"intake:apply", "notify:read"}),
                citizen_id="11010519491231002X",
                citizen_name="张三丰",
            )
        )
        department = as_caller(
            Identity(
                kind="system",
                client_id="dept-wc-rsj",
                scopes=frozenset({"backoffice:read"}),
                department="wc-rsj",
            )
        )
        assert (await catalog.post("/departments", json=DEPARTMENT)).status_code == 201
        assert (await catalog.post("/items", json=ITEM)).status_code == 201
        assert (await catalog.post(f"/items/{ITEM['item_id']}/publish")).status_code == 200

        seen = await eventually(lambda: intake.get(f"/items/{ITEM['item_id']}"))
        assert seen.status_code == 200, "intake's read model never got the published item"
        assert seen.json()["version"] == 1

        body = {"item_id": ITEM["item_id"], "applicant_id": "11010519491231002X", "applicant_name": "张三丰"}
        submitted = await intake.post(
            "/applications", json=body, headers={**citizen, "Idempotency-Key": "k-1"}
        )
        assert submitted.status_code == 201, submitted.text
        again = await intake.post("/applications", json=body, headers={**citizen, "Idempotency-Key": "k-1"})
        assert again.status_code == 200
        assert again.json()["id"] == submitted.json()["id"]
        application = submitted.json()
        assert application["case_number"].startswith(DEPARTMENT["credit_code"] + "4" + ITEM["base_code"])

        task = await eventually(
            lambda: backoffice.get(f"/applications/{application['id']}/task", headers=department)
        )
        assert task.status_code == 200, "back office never created the task"
        assert task.json()["department_code"] == "wc-rsj"
        worklist = await backoffice.get("/tasks", params={"department_code": "wc-rsj"})
        assert worklist.json()["total"] == 1

        async def notice() -> httpx.Response:
            response = await notify.get(
                "/messages", params={"case_number": application["case_number"]}, headers=citizen
            )
            return response if response.json() else httpx.Response(404)

        messages = await eventually(notice)
        assert messages.status_code == 200, "notify never wrote the acceptance notice"
        assert [m["template"] for m in messages.json()] == ["application_accepted"]
