"""主项 → 子项 → 办理项 on real PostgreSQL and SQLite: the tree, the guide's place, filters, bad input, events."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import sqlalchemy as sa

from catalog.db import MIGRATIONS_DIR
from catalog.main import create_app
from catalog.seed import load_wucheng
from messaging.tables import outbox
from servicekit.migrations import downgrade
from servicekit.testing import OPERATOR, TEST_KEY, app_client, as_caller, migrate

from .support import DEPARTMENT, item

PROPERTY = "000711001000"  # 不动产登记, a heading
RESALE = "wc-zrzyfj-000711001002"  # its 子项: 存量房买卖 transfer
MORTGAGED = "wc-zrzyfj-000711001002-01"  # that 子项's 办理项: 带押过户


def _names(nodes: list[dict[str, Any]]) -> list[str]:
    return [node["name"] for node in nodes]


async def test_the_shipped_tree_guides_and_filter(db_url: str) -> None:
    await migrate(MIGRATIONS_DIR, db_url)
    app = create_app(db_url, TEST_KEY)
    async with app_client(app) as client:
        await load_wucheng(app.state.sessions)
        client.headers.update(as_caller(OPERATOR))
        roots = (await client.get("/main-items")).json()
        headings = [r for r in roots if r["item_id"] is None]
        assert len(headings) == 15
        assert all(r["level"] == "主项" and r["children"] for r in headings)

        # every published item appears once: 376 = 主项 applied for as they are + 子项 + 办理项
        def count(nodes: list[dict[str, Any]]) -> int:
            return sum((n["item_id"] is not None) + count(n["children"]) for n in nodes)

        assert count(roots) == 376
        estate = (await client.get(f"/main-items/{PROPERTY}")).json()
        assert estate["name"] == "不动产登记"
        assert len(estate["children"]) == 12
        resale = next(c for c in estate["children"] if c["item_id"] == RESALE)
        assert [(c["handling_suffix"], c["level"]) for c in resale["children"]] == [
            ("01", "办理项"),
            ("02", "办理项"),
        ]
        by_department = (await client.get("/main-items", params={"department": "wc-rsj"})).json()
        assert by_department
        assert all(
            n["department"] == "wc-rsj" or all(c["department"] == "wc-rsj" for c in n["children"])
            for n in by_department
        )
        # the guide places the item: a 子项 lists its 办理项, a 办理项 names its item and 主项
        parent = (await client.get(f"/items/{RESALE}/guide")).json()["place"]
        assert (parent["level"], parent["main_item"]["name"]) == ("子项", "不动产登记")
        assert _names(parent["children"]) == ["存量房“带押过户”转移登记", "存量房转移登记与水电气网联动过户"]
        guide = (await client.get(f"/items/{MORTGAGED}/guide")).json()
        assert guide["place"]["level"] == "办理项"
        assert guide["place"]["parent"]["item_id"] == RESALE
        assert guide["place"]["main_item"]["base_code"] == PROPERTY
        # its 情形 change the material list: a cash buyer brings no new mortgage contract
        cash = (await client.get(f"/items/{MORTGAGED}/guide", params={"situation": "cash"})).json()
        assert "新抵押合同及主债权合同" in _names(guide["materials"])
        assert "新抵押合同及主债权合同" not in _names(cash["materials"])
        page = await client.get(f"/items/{MORTGAGED}/guide.html")
        assert "所属主项：不动产登记" in page.text
        assert "所属事项：" in page.text
        item_view = (await client.get(f"/items/{MORTGAGED}")).json()
        assert (item_view["level"], item_view["implementation_code"][-2:]) == ("办理项", "01")
        # search within one 主项
        found = (await client.get("/items", params={"q": "登记", "main_item": PROPERTY, "limit": 50})).json()
        everywhere = (await client.get("/items", params={"q": "登记"})).json()["total"]
        assert 0 < found["total"] <= 14 < everywhere  # 12 子项 and 2 办理项 under it
        assert all(hit["item_id"].startswith("wc-zrzyfj-000711001") for hit in found["items"])
        unknown = await client.get("/items", params={"main_item": "000711099000"})
        assert unknown.status_code == 422
        assert unknown.json()["errors"][0]["field"] == "main_item"
        # an item with 办理项 cannot be retired before them
        refused = await client.post(f"/items/{RESALE}/retire")
        assert refused.status_code == 409
        assert MORTGAGED in refused.json()["detail"]
        async with app.state.engine.connect() as conn:
            payloads = (await conn.execute(sa.select(outbox.c.payload))).scalars().all()
        mortgaged = next(d for d in map(json.loads, payloads) if d["item_id"] == MORTGAGED)
        assert (mortgaged["level"], mortgaged["parent_base_code"], mortgaged["handling_suffix"]) == (
            "办理项",
            PROPERTY,
            "01",
        )


async def test_main_items_bad_input(db_url: str) -> None:
    await migrate(MIGRATIONS_DIR, db_url)
    app = create_app(db_url, TEST_KEY)
    heading: dict[str, Any] = {
        "base_code": "330520001000",
        "department": "wc-mzj",
        "name": "老年人优待证",
        "type": "行政给付",
    }
    heading["legal_basis"] = ["《中华人民共和国老年人权益保障法》"]
    async with app_client(app) as client:
        client.headers.update(as_caller(OPERATOR))
        unknown = await client.post("/main-items", json=heading)
        assert unknown.status_code == 422
        assert unknown.json()["errors"][0]["field"] == "department"
        await client.post("/departments", json=DEPARTMENT)
        cases: list[tuple[dict[str, Any], str]] = [
            ({"base_code": "330520001001"}, "base_code"),  # a sub-item serial
            ({"type": "行政许可"}, ""),  # the code says 行政给付
            ({"legal_basis": []}, "legal_basis"),
        ]
        for change, field in cases:
            bad = await client.post("/main-items", json=heading | change)
            assert bad.status_code == 422, change
            assert bad.headers["content-type"] == "application/problem+json"
            assert bad.json()["errors"][0]["field"] == field, change
        assert (await client.post("/main-items", json=heading)).status_code == 201
        assert (await client.post("/main-items", json=heading)).status_code == 409
        # an item under it, then one that would be both a heading and an item
        child = item(base_code="330520001001", parent_base_code="330520001000")
        assert (await client.post("/items", json=child)).status_code == 201
        clash = await client.post("/items", json=item(item_id="wc-mzj-heading", base_code="330520001000"))
        assert clash.status_code == 422
        assert clash.json()["errors"][0] == {
            "field": "base_code",
            "rule": "level",
            "message": "330520001000 是只起归类作用的主项，本身不办理 (a heading only)",
        }
        standalone = {**heading, "base_code": "330520002000"}
        assert (
            await client.post("/items", json=item(item_id="wc-mzj-two", base_code="330520002000"))
        ).status_code == 201
        taken = await client.post("/main-items", json=standalone)
        assert taken.status_code == 422
        assert taken.json()["errors"][0]["rule"] == "level"
        assert (await client.get("/main-items/330520009000")).status_code == 404
        assert (await client.get("/main-items/33052000")).status_code == 422
        assert (await client.get("/main-items", params={"department": "wc-nobody"})).status_code == 422
        async with app.state.engine.connect() as conn:
            assert (await conn.execute(sa.text("SELECT count(*) FROM main_item"))).scalar() == 1


async def test_the_migration_copies_each_items_place_out_of_its_guide(db_url: str) -> None:
    await migrate(MIGRATIONS_DIR, db_url)
    async with app_client(create_app(db_url, TEST_KEY)) as client:
        client.headers.update(as_caller(OPERATOR))
        await client.post("/departments", json=DEPARTMENT)
        heading = {"base_code": "330520001000", "department": "wc-mzj", "name": "老年人优待证"}
        await client.post("/main-items", json=heading | {"type": "行政给付", "legal_basis": ["《老年法》"]})
        await client.post("/items", json=item(base_code="330520001001", parent_base_code="330520001000"))
        await client.post("/items/wc-mzj-lnyd/publish")
    await asyncio.to_thread(downgrade, MIGRATIONS_DIR, db_url, "0002")
    await migrate(MIGRATIONS_DIR, db_url)
    async with app_client(create_app(db_url, TEST_KEY)) as client:
        client.headers.update(as_caller(OPERATOR))
        view = (await client.get("/items/wc-mzj-lnyd")).json()
        assert (view["level"], view["parent_base_code"]) == ("子项", "330520001000")
        assert (await client.get("/items", params={"q": "lnz"})).json()["total"] == 1
