"""A gateway in front of all five services on SQLite, in-process, with test clients for every role."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from gateway.citizens import DemoSso
from gateway.demo import demo_registry, demo_secret
from gateway.keys import KeySet
from gateway.main import create_gateway
from gateway.routes import SERVICES
from gateway.security import Security
from gateway.tokens import TokenIssuer
from gateway.upstreams import AsgiUpstream, Upstream
from servicekit.migrations import upgrade
from servicekit.testing import TEST_KEY

DEPARTMENTS = [
    {"code": "wc-mzj", "name": "金华市婺城区民政局", "level": "district"},
    {"code": "wc-rsj", "name": "金华市婺城区人力资源和社会保障局", "level": "district"},
    {"code": "jh-bdc", "name": "金华市不动产登记中心", "level": "city"},
]
TokenFor = Callable[[str], Awaitable[str]]


@pytest.fixture(scope="session")
def demo_sso() -> DemoSso:
    return DemoSso.create()


@pytest.fixture(scope="session")
def security(demo_sso: DemoSso) -> Security:
    keys = KeySet.load_or_create(None, retain_s=600)
    return Security(
        issuer=TokenIssuer(keys, issuer="https://gateway.test", audience="zuiduo-api", ttl_s=300),
        registry=demo_registry(DEPARTMENTS),
        internal_key=TEST_KEY,
        sso=demo_sso.trust,
    )


@pytest.fixture
async def service_apps(tmp_path: Path) -> AsyncIterator[dict[str, FastAPI]]:
    apps = {}
    async with contextlib.AsyncExitStack() as stack:
        for service in SERVICES:
            url = f"sqlite+aiosqlite:///{tmp_path / service}.db"
            await asyncio.to_thread(upgrade, importlib.import_module(f"{service}.db").MIGRATIONS_DIR, url)
            app: FastAPI = importlib.import_module(f"{service}.main").create_app(url, TEST_KEY)
            await stack.enter_async_context(app.router.lifespan_context(app))
            apps[service] = app
        yield apps


@pytest.fixture
async def gateway(service_apps: dict[str, FastAPI], security: Security) -> AsyncIterator[httpx.AsyncClient]:
    upstreams: dict[str, Upstream] = {name: AsgiUpstream(name, app) for name, app in service_apps.items()}
    app = create_gateway(upstreams, security, max_body_bytes=4096)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


@pytest.fixture
def token_for(gateway: httpx.AsyncClient) -> TokenFor:
    """An access token for a demo client, obtained the way an integrator would."""
    cache: dict[str, str] = {}

    async def get(client_id: str) -> str:
        if client_id not in cache:
            response = await gateway.post(
                "/api/v1/auth/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, demo_secret(client_id)),
            )
            assert response.status_code == 200, response.text
            cache[client_id] = response.json()["access_token"]
        return cache[client_id]

    return get


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
