"""The search index follows publishing, retiring, reindexing and migrations, on PostgreSQL and SQLite."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import httpx

from catalog.db import MIGRATIONS_DIR
from catalog.main import create_app
from catalog.search import reindex_all, unindex_item
from servicekit.migrations import downgrade
from servicekit.testing import OPERATOR, TEST_KEY, app_client, as_caller, migrate

from .support import DEPARTMENT, item


async def _names(client: httpx.AsyncClient, q: str) -> list[str]:
    response = await client.get("/items", params={"q": q})
    assert response.status_code == 200, response.text
    return [hit["name"] for hit in response.json()["items"]]


async def test_only_the_published_version_is_found(db_url: str) -> None:
    await migrate(MIGRATIONS_DIR, db_url)
    app = create_app(db_url, TEST_KEY)
    async with app_client(app) as client:
        client.headers.update(as_caller(OPERATOR))
        await client.post("/departments", json=DEPARTMENT)
        assert (await client.post("/items", json=item())).status_code == 201
        assert await _names(client, "老年证") == []  # a draft is not searchable
        await client.post("/items/wc-mzj-lnyd/publish")
        assert await _names(client, "lnz") == ["老年人优待证办理"]
        revised = item(name="老年人优待证申领", synonyms=["敬老卡"])
        await client.post("/items", json=revised)
        assert await _names(client, "敬老卡") == []
        assert (await client.post("/items/wc-mzj-lnyd/publish")).json()["version"] == 2
        assert await _names(client, "敬老卡") == ["老年人优待证申领"]
        assert await _names(client, "lnz") == []  # one row per item: the old version's words are gone
        async with app.state.sessions() as session, session.begin():
            await unindex_item(session, "wc-mzj-lnyd")
        assert await _names(client, "敬老卡") == []
        async with app.state.sessions() as session:
            assert await reindex_all(session) == 1
        assert await _names(client, "敬老卡") == ["老年人优待证申领"]


async def test_the_migration_indexes_items_published_before_it(db_url: str) -> None:
    await migrate(MIGRATIONS_DIR, db_url)
    async with app_client(create_app(db_url, TEST_KEY)) as client:
        client.headers.update(as_caller(OPERATOR))
        await client.post("/departments", json=DEPARTMENT)
        await client.post("/items", json=item())
        await client.post("/items/wc-mzj-lnyd/publish")
    await asyncio.to_thread(downgrade, MIGRATIONS_DIR, db_url, "0001")
    await migrate(MIGRATIONS_DIR, db_url)
    async with app_client(create_app(db_url, TEST_KEY)) as client:
        client.headers.update(as_caller(OPERATOR))
        assert await _names(client, "laonianzheng") == ["老年人优待证办理"]


def test_loading_the_dictionaries_is_quiet_and_quick() -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", "import catalog.search.text"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # jieba's "Building prefix dict…" lines are not printed
    assert time.monotonic() - started < 5  # interpreter, jieba's dictionary and the userdict
