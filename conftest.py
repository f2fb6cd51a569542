"""Root pytest configuration: real Kafka and PostgreSQL fixtures, and the two database backends."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["localinfra.pytest_plugin"]


@pytest.fixture(params=["postgresql", "sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh empty database on real PostgreSQL, then on the embedded mode's SQLite."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'service.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url
