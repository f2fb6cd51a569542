"""Helpers for service tests: a migrated database and an HTTP client on the app (no mocks)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from servicekit.identity import HEADER, Identity, sign
from servicekit.migrations import upgrade

# The internal key service tests build their apps with; the gateway's is random per process.
TEST_KEY = b"test-internal-key"


async def migrate(migrations_dir: Path, url: str) -> None:
    # Alembic's env runs its own event loop, so it runs in a thread here.
    await asyncio.to_thread(upgrade, migrations_dir, url)


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def as_caller(identity: Identity, key: bytes = TEST_KEY) -> dict[str, str]:
    """Headers of a request the gateway forwarded for `identity`."""
    return {HEADER: sign(identity, key)}


OPERATOR = Identity(kind="operator", client_id="operator", scopes=frozenset({"admin"}))
