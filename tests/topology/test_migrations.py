"""Every service's migrations upgrade, downgrade and upgrade again, on PostgreSQL and SQLite."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from servicekit.db import make_engine
from servicekit.migrate import SERVICES
from servicekit.migrations import downgrade, head_revision, upgrade


def _migrations_dir(service: str) -> Path:
    path: Path = importlib.import_module(f"{service}.db").MIGRATIONS_DIR
    return path


async def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
    await engine.dispose()
    return names


@pytest.mark.parametrize("service", SERVICES)
async def test_upgrade_downgrade_upgrade(service: str, db_url: str) -> None:
    migrations = _migrations_dir(service)
    await asyncio.to_thread(upgrade, migrations, db_url)
    tables = await _tables(db_url)
    assert {"outbox", "inbox", "alembic_version"} <= tables
    await asyncio.to_thread(downgrade, migrations, db_url)
    assert await _tables(db_url) == {"alembic_version"}
    await asyncio.to_thread(upgrade, migrations, db_url)
    assert await _tables(db_url) == tables


@pytest.mark.parametrize("service", SERVICES)
def test_committed_current_head_matches_the_migrations(service: str) -> None:
    """Two branches that both add a migration conflict on this file instead of forking heads."""
    migrations = _migrations_dir(service)
    assert (migrations / "current_head").read_text().strip() == head_revision(migrations)
