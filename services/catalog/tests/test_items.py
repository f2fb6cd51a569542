"""Catalog items on real PostgreSQL and SQLite: departments, drafts, publishing, events, bad input."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from govcodes.creditcode import check_char

from catalog.db import MIGRATIONS_DIR
from catalog.main import create_app
from messaging.tables import outbox
from servicekit.identity import Identity
from servicekit.testing import OPERATOR, TEST_KEY, app_client, as_caller, migrate

_ORG = "11330702" + "002609732"
CREDIT = _ORG + check_char(_ORG)

DEPARTMENT = {
    "code": "wc-mzj",
    "name": "金华市婺城区民政局",
    "short_name": "区民政局",
    "level": "district",
    "region_code": "330702",
    "credit_code": CREDIT,
    "window": "婺城区行政服务中心二楼综合受理区",
    "address": "金华市婺城区宾虹路858号",
    "phone": "0579-82468123",
    "hours": "周一至周五 8:30-12:00 14:30-17:30",
    "complaint_phone": "12345",
}

ITEM: dict[str, Any] = {
    "item_id": "wc-mzj-lnyd",
    "base_code": "332005001000",
    "department_code": "wc-mzj",
    "name": "老年人优待证办理",
    "handling_type": "即办件",
    "promised_limit": {"value": 0, "unit": "工作日"},
    "trips": 0,
    "minsheng": True,
    "materials": [
        {"name": "居民身份证", "key": True, "certificate_type": "id_card"},
        {"name": "户口簿", "certificate_type": "hukou"},
    ],
}


async def test_publish_writes_the_item_and_its_event_in_one_transaction(db_url: str) -> None:
    await migrate(MIGRATIONS_DIR, db_url)
    app = create_app(db_url, TEST_KEY)
    async with app_client(app) as client:
        client.headers.update(as_caller(OPERATOR))
        assert (await client.post("/departments", json=DEPARTMENT)).status_code == 201
        created = await client.post("/items", json=ITEM)
        assert created.status_code == 201, created.text
        assert created.json()["implementation_code"] == CREDIT + "4" + ITEM["base_code"]
        published = await client.post(f"/items/{ITEM['item_id']}/publish")
        assert published.json()["status"] == "published"
        # a revision: version 2 retires version 1, which stays readable
        assert (await client.post("/items", json={**ITEM, "name": "老年人优待证申领"})).status_code == 201
        assert (await client.post(f"/items/{ITEM['item_id']}/publish")).json()["version"] == 2
        old = await client.get(f"/items/{ITEM['item_id']}/versions/1")
        assert old.json()["status"] == "retired"
        assert (await client.get(f"/items/{ITEM['item_id']}")).json()["name"] == "老年人优待证申领"
        async with app.state.engine.connect() as conn:
            types = (await conn.execute(sa.select(outbox.c.event_type).order_by(outbox.c.seq))).scalars()
            assert list(types) == [
                "catalog.item.published",
                "catalog.item.retired",
                "catalog.item.published",
            ]
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text


async def test_bad_input_names_the_field_and_saves_nothing(db_url: str) -> None:
    await migrate(MIGRATIONS_DIR, db_url)
    app = create_app(db_url, TEST_KEY)
    async with app_client(app) as client:
        client.headers.update(as_caller(OPERATOR))
        bad_credit = await client.post("/departments", json={**DEPARTMENT, "credit_code": CREDIT[:-1] + "0"})
        assert bad_credit.status_code == 422
        assert bad_credit.headers["content-type"] == "application/problem+json"
        assert bad_credit.json()["errors"][0]["field"] == "credit_code"
        unknown = await client.post("/items", json=ITEM)
        assert unknown.status_code == 422
        assert unknown.json()["errors"][0]["field"] == "department_code"
        await client.post("/departments", json=DEPARTMENT)
        bad_code = await client.post("/items", json={**ITEM, "base_code": "339905001000"})
        assert bad_code.json()["errors"][0]["field"] == "base_code"
        assert (await client.post("/items", json=ITEM)).status_code == 201
        dup = await client.post("/items", json={**ITEM, "item_id": "wc-mzj-other"})
        assert dup.status_code == 409
        assert (await client.post("/departments", json=DEPARTMENT)).status_code == 409
        async with app.state.engine.connect() as conn:
            assert (await conn.execute(sa.select(sa.func.count()).select_from(outbox))).scalar() == 0


async def test_only_operators_change_the_catalogue_and_everyone_reads_it(db_url: str) -> None:
    await migrate(MIGRATIONS_DIR, db_url)
    async with app_client(create_app(db_url, TEST_KEY)) as client:
        app_client_identity = Identity(kind="system", client_id="zlb-app", scopes=frozenset({"catalog:read"}))
        headers = as_caller(app_client_identity)
        refused = await client.post("/departments", json=DEPARTMENT, headers=headers)
        assert refused.status_code == 403
        assert (await client.get("/items", headers=headers)).status_code == 200
        assert (await client.get("/items")).status_code == 401
