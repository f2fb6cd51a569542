"""Catalog items on real PostgreSQL and SQLite: departments, drafts, versions, events, bad input."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from catalog.db import MIGRATIONS_DIR
from catalog.main import create_app
from messaging.tables import outbox
from servicekit.identity import Identity
from servicekit.testing import OPERATOR, TEST_KEY, app_client, as_caller, migrate

from .support import CREDIT, DEPARTMENT, item


async def test_publish_writes_the_item_and_its_event_in_one_transaction(db_url: str) -> None:
    await migrate(MIGRATIONS_DIR, db_url)
    app = create_app(db_url, TEST_KEY)
    async with app_client(app) as client:
        client.headers.update(as_caller(OPERATOR))
        assert (await client.post("/departments", json=DEPARTMENT)).status_code == 201
        created = await client.post("/items", json=item(effective_from="2026-01-01"))
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["implementation_code"] == CREDIT + "4" + "330520001000"
        assert (body["zero_trip"], body["one_certificate"]) == (True, False)  # the photo must be brought
        published = await client.post("/items/wc-mzj-lnyd/publish")
        assert published.json()["status"] == "published"
        # a revision: version 2 retires version 1 the day before it takes effect; v1 stays readable
        revised = item(name="老年人优待证申领", effective_from="2026-06-01")
        assert (await client.post("/items", json=revised)).status_code == 201
        assert (await client.post("/items/wc-mzj-lnyd/publish")).json()["version"] == 2
        old = (await client.get("/items/wc-mzj-lnyd/versions/1")).json()
        assert (old["status"], old["effective_to"]) == ("retired", "2026-05-31")
        assert (await client.get("/items/wc-mzj-lnyd")).json()["name"] == "老年人优待证申领"
        async with app.state.engine.connect() as conn:
            rows = (
                await conn.execute(sa.select(outbox.c.event_type, outbox.c.payload).order_by(outbox.c.seq))
            ).all()
        assert [r.event_type for r in rows] == [
            "catalog.item.published",
            "catalog.item.retired",
            "catalog.item.published",
        ]
        assert b'"one_certificate":false' in rows[0].payload
        assert b'"result_certificate_type":"elderly_card"' in rows[0].payload
        assert (await client.get("/readyz")).status_code == 200


async def test_a_version_may_not_overlap_the_current_one(db_url: str) -> None:
    await migrate(MIGRATIONS_DIR, db_url)
    async with app_client(create_app(db_url, TEST_KEY)) as client:
        client.headers.update(as_caller(OPERATOR))
        await client.post("/departments", json=DEPARTMENT)
        await client.post("/items", json=item(effective_from="2026-06-01"))
        await client.post("/items/wc-mzj-lnyd/publish")
        await client.post("/items", json=item(effective_from="2026-05-01"))
        overlapping = await client.post("/items/wc-mzj-lnyd/publish")
        assert overlapping.status_code == 422
        assert overlapping.json()["errors"][0] == {
            "field": "effective_from",
            "rule": "no_overlap",
            "message": "must not be before the current version's 2026-06-01 (versions may not overlap)",
        }
        assert (await client.get("/items/wc-mzj-lnyd")).json()["version"] == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"base_code": "339905001000"}, "base_code"),
        ({"base_code": "33052000100"}, "base_code"),
        ({"type": "行政许可"}, ""),  # the base code says 行政给付
        ({"materials": [{"name": "户口簿", "certificate_type": "passport"}]}, "materials.0.certificate_type"),
        ({"materials": [{"name": "户口簿", "key": True, "rongque": True}]}, "materials.0"),
        ({"promised_limit": {"value": 3, "unit": "工作日"}}, ""),  # a 即办件 promises 0
        ({"handling_type": "联办件", "promised_limit": {"value": 3, "unit": "工作日"}}, ""),
        ({"topics": ["旅游"]}, "topics.0"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_invalid_items_name_the_field_and_save_nothing(
    db_url: str, change: dict[str, Any], field: str
) -> None:
    await migrate(MIGRATIONS_DIR, db_url)
    app = create_app(db_url, TEST_KEY)
    async with app_client(app) as client:
        client.headers.update(as_caller(OPERATOR))
        await client.post("/departments", json=DEPARTMENT)
        response = await client.post("/items", json=item(**change))
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == field
        async with app.state.engine.connect() as conn:
            assert (await conn.execute(sa.text("SELECT count(*) FROM item_version"))).scalar() == 0


async def test_references_and_duplicates_are_refused(db_url: str) -> None:
    await migrate(MIGRATIONS_DIR, db_url)
    app = create_app(db_url, TEST_KEY)
    async with app_client(app) as client:
        client.headers.update(as_caller(OPERATOR))
        bad_credit = await client.post("/departments", json={**DEPARTMENT, "credit_code": CREDIT[:-1] + "0"})
        assert bad_credit.status_code == 422
        assert bad_credit.json()["errors"][0]["field"] == "credit_code"
        unknown = await client.post("/items", json=item())
        assert unknown.json()["errors"][0] == {
            "field": "department",
            "rule": "exists",
            "message": "unknown department wc-mzj",
        }
        await client.post("/departments", json=DEPARTMENT)
        joint = await client.post("/items", json=item(joint_departments=["wc-nobody"]))
        assert joint.json()["errors"][0]["field"] == "joint_departments"
        assert (await client.post("/items", json=item())).status_code == 201
        dup = await client.post("/items", json=item(item_id="wc-mzj-other"))
        assert dup.status_code == 422
        assert dup.json()["errors"][0]["rule"] == "unique"
        assert (await client.post("/departments", json=DEPARTMENT)).status_code == 409
        async with app.state.engine.connect() as conn:
            assert (await conn.execute(sa.select(sa.func.count()).select_from(outbox))).scalar() == 0


async def test_only_operators_change_the_catalogue_and_everyone_reads_it(db_url: str) -> None:
    await migrate(MIGRATIONS_DIR, db_url)
    async with app_client(create_app(db_url, TEST_KEY)) as client:
        app_identity = Identity(kind="system", client_id="zlb-app", scopes=frozenset({"catalog:read"}))
        headers = as_caller(app_identity)
        assert (await client.post("/departments", json=DEPARTMENT, headers=headers)).status_code == 403
        assert (await client.get("/items", headers=headers)).status_code == 200
        assert (await client.get("/items")).status_code == 401
