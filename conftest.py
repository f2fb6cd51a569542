"""Root pytest configuration: real Kafka and PostgreSQL fixtures, and the two database backends."""

from __future__ import annotations

from pathlib import Path

import pytest

# pytest's importlib mode names gateway/tests/* "gateway.tests.*" and would otherwise register an
# empty "gateway" module for the folder, shadowing the real package in gateway/src.
import gateway  # noqa: F401

pytest_plugins = ["localinfra.pytest_plugin", "localinfra.kannel_plugin"]


@pytest.fixture(params=["postgresql", "sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh empty database on real PostgreSQL, then on the embedded mode's SQLite."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'service.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url
