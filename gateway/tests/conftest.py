"""A gateway in front of all five services on SQLite, in-process (the embedded topology)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from gateway.main import create_gateway
from gateway.routes import SERVICES
from gateway.upstreams import AsgiUpstream, Upstream
from servicekit.migrations import upgrade


@pytest.fixture
async def service_apps(tmp_path: Path) -> AsyncIterator[dict[str, FastAPI]]:
    apps = {}
    async with contextlib.AsyncExitStack() as stack:
        for service in SERVICES:
            url = f"sqlite+aiosqlite:///{tmp_path / service}.db"
            await asyncio.to_thread(upgrade, importlib.import_module(f"{service}.db").MIGRATIONS_DIR, url)
            app: FastAPI = importlib.import_module(f"{service}.main").create_app(url)
            await stack.enter_async_context(app.router.lifespan_context(app))
            apps[service] = app
        yield apps


@pytest.fixture
async def gateway(service_apps: dict[str, FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    upstreams: dict[str, Upstream] = {name: AsgiUpstream(name, app) for name, app in service_apps.items()}
    app = create_gateway(upstreams, max_body_bytes=4096)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client
