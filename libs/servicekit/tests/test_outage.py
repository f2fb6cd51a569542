"""A service whose PostgreSQL goes away answers 503 problem details with Retry-After, then recovers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi import APIRouter

from localinfra.postgres import PostgresCluster, start_postgres
from servicekit.app import create_service_app
from servicekit.db import make_engine
from servicekit.deps import SessionDep
from servicekit.testing import TEST_KEY, app_client

router = APIRouter()


@router.get("/notes/count")
async def count_notes(session: SessionDep) -> dict[str, int]:
    return {"count": int(await session.scalar(sa.text("SELECT count(*) FROM note")) or 0)}


@router.post("/notes", status_code=201)
async def add_note(session: SessionDep) -> dict[str, str]:
    async with session.begin():
        await session.execute(sa.text("INSERT INTO note DEFAULT VALUES"))
    return {"status": "added"}


@router.get("/broken")
async def broken(session: SessionDep) -> dict[str, str]:
    await session.execute(sa.text("SELECT * FROM no_such_table"))
    return {"status": "unreachable"}


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    # Its own cluster: the session's shared one must not be stopped under other tests.
    own = start_postgres()
    try:
        yield own
    finally:
        own.close()


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "2"
    assert response.json()["code"] == "dependency_unavailable"


async def test_a_database_outage_is_503_and_the_service_recovers(
    cluster: PostgresCluster, tmp_path: Path
) -> None:
    url = cluster.create_database("outage")
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE note (id serial PRIMARY KEY)"))
    (tmp_path / "versions").mkdir()
    app = create_service_app(
        name="outage",
        title="outage",
        description="outage",
        engine=engine,
        internal_key=TEST_KEY,
        migrations_dir=tmp_path,
        routers=[router],
    )
    async with app_client(app) as client:
        assert (await client.post("/notes")).status_code == 201
        assert (await client.get("/notes/count")).json() == {"count": 1}
        broken = await client.get("/broken")
        assert (broken.status_code, broken.json()["code"]) == (500, "internal_error")

        cluster.stop()
        # The pooled connection breaks first, then new connections are refused: both are outages.
        assert_unavailable(await client.get("/notes/count"))
        assert_unavailable(await client.get("/notes/count"))
        assert_unavailable(await client.post("/notes"))
        readiness = await client.get("/readyz")
        assert readiness.status_code == 503

        cluster.start()
        assert (await client.post("/notes")).status_code == 201
        assert (await client.get("/notes/count")).json() == {"count": 2}
