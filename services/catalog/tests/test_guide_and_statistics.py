"""The guide view, its printable 一次性告知 page, and the report's catalogue figures, on the shipped data."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from catalog.db import MIGRATIONS_DIR
from catalog.main import create_app
from catalog.seed import load_wucheng, shipped_items
from servicekit.testing import OPERATOR, TEST_KEY, app_client, as_caller, migrate


@pytest.fixture
async def seeded(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    await migrate(MIGRATIONS_DIR, db_url)
    app = create_app(db_url, TEST_KEY)
    async with app_client(app) as client:
        await load_wucheng(app.state.sessions)
        client.headers.update(as_caller(OPERATOR))
        yield client


def _item_named(name: str) -> str:
    return next(s.resolved_item_id() for s in shipped_items() if s.name == name)


async def test_guide_has_everything_for_one_trip_and_prints(seeded: httpx.AsyncClient) -> None:
    item_id = _item_named("老年人优待证办理")
    guide = (await seeded.get(f"/items/{item_id}/guide")).json()
    assert guide["department"]["name"] == "金华市婺城区民政局"
    assert guide["materials"]
    assert all(m["sample"] for m in guide["materials"] if m["required"])
    assert guide["notice"][0].startswith("办理“老年人优待证办理”需准备以下材料")
    assert any("咨询电话" in line for line in guide["notice"])
    page = await seeded.get(f"/items/{item_id}/guide.html")
    assert page.headers["content-type"].startswith("text/html")
    assert "@media print" in page.text
    assert "一次性告知" in page.text
    for material in guide["materials"]:
        assert material["name"] in page.text


async def test_situations_change_the_material_list(seeded: httpx.AsyncClient) -> None:
    spec = next(
        s for s in shipped_items() if s.situations and len(s.situations[0].materials) < len(s.materials)
    )
    situation = spec.situations[0]
    guide = (
        await seeded.get(f"/items/{spec.resolved_item_id()}/guide", params={"situation": situation.code})
    ).json()
    assert sorted(m["name"] for m in guide["materials"]) == sorted(situation.materials)
    unknown = await seeded.get(f"/items/{spec.resolved_item_id()}/guide", params={"situation": "nope"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "situation"
    assert (await seeded.get("/items/no-such-item/guide")).status_code == 404


async def test_statistics_recount_the_published_catalogue(seeded: httpx.AsyncClient) -> None:
    figures = (await seeded.get("/statistics")).json()
    specs = shipped_items()
    minsheng = [s for s in specs if s.minsheng]
    district = figures["district"]
    assert district["items"] == len(specs)
    assert district["zero_trip"] == sum(s.trips == 0 for s in specs)
    assert district["minsheng"] == len(minsheng)
    assert district["one_certificate"] == sum(s.one_certificate for s in minsheng)
    assert district["on_the_spot"] == sum(s.handling_type == "即办件" for s in specs)
    assert district["zero_trip_share"] == round(district["zero_trip"] / district["items"], 4)
    assert figures["departments_with_items"] == 28
    assert sum(d["items"] for d in figures["departments"]) == len(specs)
    # retiring an item takes it out of the figures
    retired = await seeded.post(f"/items/{specs[0].resolved_item_id()}/retire")
    assert retired.json()["status"] == "retired"
    assert (await seeded.get("/statistics")).json()["district"]["items"] == len(specs) - 1
    found = (await seeded.get("/items", params={"q": specs[0].name, "limit": 50})).json()["items"]
    assert specs[0].resolved_item_id() not in {hit["item_id"] for hit in found}
