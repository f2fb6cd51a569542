"""Import and export on real PostgreSQL and SQLite: all or nothing, bad rows named, round trips."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from catalog.db import MIGRATIONS_DIR
from catalog.main import create_app
from catalog.seed import DATA_DIR, shipped_items
from servicekit.testing import OPERATOR, TEST_KEY, app_client, as_caller, migrate

from .support import DEPARTMENT


def thousand_items() -> list[dict[str, Any]]:
    """The shipped catalogue plus variants with other sub-item serials: 1,000 distinct items."""
    shipped = [spec.model_dump(mode="json", exclude_none=True) for spec in shipped_items()]
    rows = []
    for n in range(1000):
        spec = dict(shipped[n % len(shipped)])
        variant = n // len(shipped)
        if variant:
            code = spec["base_code"]
            spec["base_code"] = code[:9] + f"{int(code[9:]) + 100 * variant:03d}"
            spec["name"] = f"{spec['name']}（第{variant + 1}类情形）"
        spec.pop("item_id", None)
        rows.append(spec)
    return rows


async def _with_departments(client: httpx.AsyncClient) -> None:
    for raw in json.loads((DATA_DIR / "departments.json").read_text(encoding="utf-8")):
        assert (await client.post("/departments", json=raw)).status_code == 201


async def test_a_1000_item_file_with_3_bad_rows_is_rejected_whole_naming_them(db_url: str) -> None:
    await migrate(MIGRATIONS_DIR, db_url)
    app = create_app(db_url, TEST_KEY)
    rows = thousand_items()
    rows[16]["base_code"] = "33XX05001000"  # row 17: not a code
    rows[499]["department"] = "wc-nobody"  # row 500: unknown department
    rows[998]["materials"] = [{"name": "护照", "certificate_type": "passport"}]  # row 999: unknown type
    async with app_client(app) as client:
        client.headers.update(as_caller(OPERATOR))
        await _with_departments(client)
        response = await client.post("/items/import", json=rows)
        assert response.status_code == 422, response.text[:500]
        problem = response.json()
        assert problem["code"] == "import_rejected"
        named = {(e["field"].split(".")[0], e["field"].split(".", 1)[1]) for e in problem["errors"]}
        assert named == {
            ("rows[17]", "base_code"),
            ("rows[500]", "department"),
            ("rows[999]", "materials.0.certificate_type"),
        }
        async with app.state.engine.connect() as conn:
            assert (await conn.execute(sa.text("SELECT count(*) FROM item_version"))).scalar() == 0
            assert (await conn.execute(sa.text("SELECT count(*) FROM outbox"))).scalar() == 0
        rows[16]["base_code"], rows[499]["department"] = "330601900000", "wc-mzj"
        rows[998]["materials"] = [{"name": "护照", "certificate_type": None, "required": False}]
        rows[16]["type"] = "行政检查"
        fixed = await client.post("/items/import", json=rows)
        assert fixed.status_code == 200, fixed.text[:800]
        assert fixed.json()["published"] == 1000


@pytest.mark.parametrize("fmt", ["json", "csv"])
async def test_export_imports_back_unchanged(db_url: str, fmt: str) -> None:
    await migrate(MIGRATIONS_DIR, db_url)
    async with app_client(create_app(db_url, TEST_KEY)) as client:
        client.headers.update(as_caller(OPERATOR))
        await _with_departments(client)
        shipped = [spec.model_dump(mode="json", exclude_none=True) for spec in shipped_items()][:60]
        assert (await client.post("/items/import", json=shipped)).json()["published"] == 60
        exported = await client.get("/items/export", params={"format": fmt})
        assert exported.status_code == 200
        content_type = "text/csv" if fmt == "csv" else "application/json"
        again = await client.post(
            "/items/import", content=exported.content, headers={"content-type": content_type}
        )
        assert again.status_code == 200, again.text[:800]
        assert again.json() == {"published": 0, "unchanged": 60, "items": []}
        # an edited row publishes a new version of that item only
        edited = (await client.get("/items/export")).json()
        edited[0]["consult_phone"] = "0579-82000000"
        result = (await client.post("/items/import", json=edited)).json()
        assert (result["published"], result["unchanged"]) == (1, 59)
        assert (await client.get(f"/items/{edited[0]['item_id']}")).json()["version"] == 2


async def test_unreadable_files_and_duplicates_in_a_file(db_url: str) -> None:
    await migrate(MIGRATIONS_DIR, db_url)
    async with app_client(create_app(db_url, TEST_KEY)) as client:
        client.headers.update(as_caller(OPERATOR))
        await client.post("/departments", json=DEPARTMENT)
        garbage = await client.post(
            "/items/import", content=b"\xff\xfe{", headers={"content-type": "application/json"}
        )
        assert garbage.status_code == 400
        assert garbage.json()["code"] == "unreadable_file"
        from .support import item

        twice = await client.post("/items/import", json=[item(), item()])
        assert twice.status_code == 422
        assert twice.json()["errors"][0]["field"] == "rows[2].item_id"
