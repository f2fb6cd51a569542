"""Fixtures of the notify tests: a migrated database on real PostgreSQL, then on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notify.db import MIGRATIONS_DIR
from servicekit.db import make_engine, make_sessionmaker
from servicekit.testing import migrate


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await migrate(MIGRATIONS_DIR, db_url)
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    await engine.dispose()
