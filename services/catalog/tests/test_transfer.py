"""Import and export on real PostgreSQL and SQLite: all or nothing, bad rows named, round trips."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from catalog.db import MIGRATIONS_DIR
from catalog.main import create_app
from catalog.seed import DATA_DIR, shipped_items, shipped_main_items
from servicekit.testing import OPERATOR, TEST_KEY, app_client, as_caller, migrate

from .support import DEPARTMENT, item


def _variant_code(spec: dict[str, Any], variant: int) -> str:
    """Another free code at the same level: a 子项 (or its 办理项) keeps its 主项's first nine digits."""
    code: str = spec["base_code"]
    if spec.get("parent_base_code"):
        return code[:9] + f"{int(code[9:]) + 100 * variant:03d}"
    return code[:6] + f"{int(code[6:9]) + 100 * variant:03d}" + code[9:]


def main_item_rows() -> list[dict[str, Any]]:
    return [{"level": "主项", **main.model_dump(mode="json")} for main in shipped_main_items()]


def thousand_items() -> list[dict[str, Any]]:
    """The shipped catalogue plus variants under other codes: 1,000 distinct items."""
    shipped = [spec.model_dump(mode="json", exclude_none=True) for spec in shipped_items()]
    rows = []
    for n in range(1000):
        spec = dict(shipped[n % len(shipped)])
        variant = n // len(shipped)
        if variant:
            spec["base_code"] = _variant_code(spec, variant)
            spec["name"] = f"{spec['name']}（第{variant + 1}类情形）"
        spec.pop("item_id", None)
        rows.append(spec)
    assert len({(r["department"], r["base_code"], r.get("handling_suffix")) for r in rows}) == 1000
    return rows


async def _with_departments(client: httpx.AsyncClient) -> None:
    for raw in json.loads((DATA_DIR / "departments.json").read_text(encoding="utf-8")):
        assert (await client.post("/departments", json=raw)).status_code == 201


async def test_a_1000_item_file_with_3_bad_rows_is_rejected_whole_naming_them(db_url: str) -> None:
    await migrate(MIGRATIONS_DIR, db_url)
    app = create_app(db_url, TEST_KEY)
    rows = thousand_items()
    good = [dict(rows[16]), dict(rows[499]), dict(rows[998])]
    rows[16]["base_code"] = "33XX05001000"  # row 17: not a code
    rows[499]["department"] = "wc-nobody"  # row 500: unknown department
    rows[998]["materials"] = [{"name": "护照", "certificate_type": "passport"}]  # row 999: unknown type
    async with app_client(app) as client:
        client.headers.update(as_caller(OPERATOR))
        await _with_departments(client)
        # the 主项 the 子项 name travel in the same file, after the 1,000 items
        response = await client.post("/items/import", json=rows + main_item_rows())
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
            for table in ("item_version", "main_item", "outbox"):
                assert (await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar() == 0  # noqa: S608
        rows[16], rows[499], rows[998] = good
        fixed = await client.post("/items/import", json=rows + main_item_rows())
        assert fixed.status_code == 200, fixed.text[:800]
        assert (fixed.json()["published"], fixed.json()["main_items"]) == (1000, 15)


async def test_a_bad_place_in_the_hierarchy_names_the_row_and_field(db_url: str) -> None:
    """Unknown 主项, a cycle, a parent of the wrong level, a 办理项 without its item: nothing saved."""
    await migrate(MIGRATIONS_DIR, db_url)
    app = create_app(db_url, TEST_KEY)
    heading: dict[str, Any] = {"level": "主项", "base_code": "330520001000", "department": "wc-mzj"}
    heading |= {
        "name": "老年人优待证",
        "type": "行政给付",
        "legal_basis": ["《中华人民共和国老年人权益保障法》"],
    }
    rows = [
        heading,  # row 1: a 主项 heading
        item(item_id="test-a", base_code="330520001001", parent_base_code="330520001000"),  # 2: fine
        item(item_id="test-b", base_code="330520002001", parent_base_code="330520009000"),  # 3: unknown 主项
        item(item_id="test-c", base_code="330520003001", parent_base_code="330520004001"),  # 4: cycle
        item(item_id="test-d", base_code="330520004001", parent_base_code="330520003001"),  # 5: cycle
        item(item_id="test-e", base_code="330520005000"),  # 6: applied for as it is
        item(
            item_id="test-f", base_code="330520005001", parent_base_code="330520005000"
        ),  # 7: its parent is an item
        item(item_id="test-g", base_code="330520001000"),  # 8: the heading itself
        item(item_id="test-h", base_code="330520006000", handling_suffix="01"),  # 9: no item to add it to
        item(item_id="test-i", base_code="330520007002"),  # 10: a 子项 code without its 主项
        item(
            item_id="test-j", base_code="330520008001", parent_base_code="330520001000"
        ),  # 11: other 主项's code
        item(
            item_id="test-k", base_code="330520001001", handling_suffix="01", parent_base_code="330520001000"
        ),  # 12
    ]
    async with app_client(app) as client:
        client.headers.update(as_caller(OPERATOR))
        await client.post("/departments", json=DEPARTMENT)
        response = await client.post("/items/import", json=rows)
        assert response.status_code == 422, response.text
        named = {(e["field"], e["rule"]) for e in response.json()["errors"]}
        assert named == {
            ("rows[1].base_code", "level"),  # the heading clashes with row 8, applied for as it is
            ("rows[3].parent_base_code", "exists"),
            ("rows[4].parent_base_code", "no_cycle"),
            ("rows[5].parent_base_code", "no_cycle"),
            ("rows[7].parent_base_code", "level"),
            ("rows[8].base_code", "level"),
            ("rows[9].handling_suffix", "exists"),
            ("rows[10].parent_base_code", "required"),
            ("rows[11].base_code", "sub_item_code"),
        }
        async with app.state.engine.connect() as conn:
            for table in ("item_version", "main_item", "outbox"):
                assert (await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar() == 0  # noqa: S608
        good = [rows[0], rows[1], rows[5], rows[11]]
        saved = await client.post("/items/import", json=good)
        assert saved.status_code == 200, saved.text
        assert (saved.json()["published"], saved.json()["main_items"]) == (3, 1)
        tree = (await client.get("/main-items/330520001000")).json()
        assert [(c["name"], c["level"]) for c in tree["children"]] == [("老年人优待证办理", "子项")]
        assert tree["children"][0]["children"][0]["item_id"] == "test-k"


@pytest.mark.parametrize("fmt", ["json", "csv"])
async def test_export_imports_back_unchanged(db_url: str, fmt: str) -> None:
    await migrate(MIGRATIONS_DIR, db_url)
    async with app_client(create_app(db_url, TEST_KEY)) as client:
        client.headers.update(as_caller(OPERATOR))
        await _with_departments(client)
        shipped = [spec.model_dump(mode="json", exclude_none=True) for spec in shipped_items()][:60]
        loaded = (await client.post("/items/import", json=main_item_rows() + shipped)).json()
        assert (loaded["published"], loaded["main_items"]) == (60, 15)
        exported = await client.get("/items/export", params={"format": fmt})
        assert exported.status_code == 200
        content_type = "text/csv" if fmt == "csv" else "application/json"
        again = await client.post(
            "/items/import", content=exported.content, headers={"content-type": content_type}
        )
        assert again.status_code == 200, again.text[:800]
        assert again.json() == {"published": 0, "unchanged": 60, "items": [], "main_items": 0}
        # an edited row publishes a new version of that item only
        edited = (await client.get("/items/export")).json()
        assert [row.get("level") for row in edited[:16]] == ["主项"] * 15 + [None]
        edited[15]["consult_phone"] = "0579-82000000"
        result = (await client.post("/items/import", json=edited)).json()
        assert (result["published"], result["unchanged"]) == (1, 59)
        assert (await client.get(f"/items/{edited[15]['item_id']}")).json()["version"] == 2


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
        twice = await client.post("/items/import", json=[item(), item()])
        assert twice.status_code == 422
        assert twice.json()["errors"][0]["field"] == "rows[2].item_id"
        same_code = await client.post("/items/import", json=[item(), item(item_id="wc-mzj-other")])
        assert same_code.json()["errors"] == [
            {"row": 2, "field": "rows[2].base_code", "rule": "unique_in_file", "message": "same as row 1"}
        ]


async def test_the_cli_imports_and_exports_the_same_format(db_url: str, tmp_path: Path) -> None:
    """`python -m catalog.transfer import|export FILE`: the format from the suffix, bad rows named."""
    await migrate(MIGRATIONS_DIR, db_url)
    async with app_client(create_app(db_url, TEST_KEY)) as client:
        client.headers.update(as_caller(OPERATOR))
        await _with_departments(client)
    env = {**os.environ, "CATALOG_DATABASE_URL": db_url, "CATALOG_INTERNAL_TOKEN_KEY": "cli-test"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "catalog.transfer", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)

    rows = main_item_rows() + [spec.model_dump(mode="json") for spec in shipped_items()][:20]
    bad = [*rows, {**rows[-1], "item_id": "wc-other", "department": "wc-nobody"}]
    (tmp_path / "bad.json").write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    rejected = await asyncio.to_thread(cli, "import", str(tmp_path / "bad.json"))
    assert rejected.returncode == 1
    assert f"rows[{len(bad)}].department: unknown department wc-nobody" in rejected.stdout
    (tmp_path / "items.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    loaded = await asyncio.to_thread(cli, "import", str(tmp_path / "items.json"))
    assert loaded.stdout == "main items 15, published 20, unchanged 0\n", loaded.stderr
    exported = await asyncio.to_thread(cli, "export", str(tmp_path / "items.csv"))
    assert exported.returncode == 0, exported.stderr
    again = await asyncio.to_thread(cli, "import", str(tmp_path / "items.csv"))
    assert again.stdout == "main items 0, published 0, unchanged 20\n", again.stderr
