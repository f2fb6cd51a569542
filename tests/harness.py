"""The running stack as tests see it: citizens with tokens, the gateway, each service's database."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from govcodes.idnumber import check_char

from gateway.citizens import DemoSso
from localinfra.pg_admin import plain_dsn
from localinfra.stack import Stack

APP_CLIENT = ("zlb-app", "demo-zlb-app")
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Tokens live 15 minutes; a soak run outlives them, so they are renewed well before.
TOKEN_RENEW_S = 600.0
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "建国秀英志强丽华海燕文明春梅"


@dataclass(frozen=True)
class Settings:
    """How hard and how long: small in CI, `make soak` raises them through the environment."""

    rate: float = float(os.environ.get("RELIABILITY_RATE", "15"))
    before_s: float = float(os.environ.get("RELIABILITY_BEFORE_S", "4"))
    after_s: float = float(os.environ.get("RELIABILITY_AFTER_S", "6"))
    lag_s: float = float(os.environ.get("RELIABILITY_LAG_S", "60"))
    outage_s: float = float(os.environ.get("RELIABILITY_OUTAGE_S", "4"))
    settle_s: float = float(os.environ.get("RELIABILITY_SETTLE_S", "120"))


def resident(index: int) -> tuple[str, str]:
    """A valid made-up Wucheng ID number and a name, distinct per index."""
    first17 = f"330702{1950 + index % 50}{1 + index % 12:02d}{1 + index % 28:02d}{index % 1000:03d}"
    name = SURNAMES[index % len(SURNAMES)] + GIVEN[(index * 2) % len(GIVEN) : (index * 2) % len(GIVEN) + 2]
    return first17 + check_char(first17), name


@dataclass
class Citizen:
    id_number: str
    name: str
    token: str = ""
    issued_at: float = 0.0


@dataclass
class Platform:
    stack: Stack
    sso: DemoSso
    citizens: list[Citizen]
    items: list[str] = field(default_factory=list)
    settings: Settings = field(default_factory=Settings)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.stack.gateway_port}"

    @property
    def kafka_bootstrap(self) -> str:
        assert self.stack.kafka is not None
        return self.stack.kafka.bootstrap

    async def token(self, client: httpx.AsyncClient, citizen: Citizen) -> str:
        """The citizen's bearer token, exchanged by the app for an SSO assertion (renewed when old)."""
        if citizen.token and time.monotonic() - citizen.issued_at < TOKEN_RENEW_S:
            return citizen.token
        form = {"grant_type": JWT_BEARER, "assertion": self.sso.assertion(citizen.id_number, citizen.name)}
        response = await client.post(f"{self.base_url}/api/v1/auth/token", data=form, auth=APP_CLIENT)
        response.raise_for_status()
        citizen.token, citizen.issued_at = response.json()["access_token"], time.monotonic()
        return citizen.token

    async def system_token(self, client: httpx.AsyncClient, client_id: str) -> str:
        form = {"grant_type": "client_credentials"}
        response = await client.post(
            f"{self.base_url}/api/v1/auth/token", data=form, auth=(client_id, f"demo-{client_id}")
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token

    async def query(self, service: str, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Read a service's own database directly: the counts the tests compare."""
        conn = await asyncpg.connect(plain_dsn(self.stack.database_urls[service]), timeout=10)
        try:
            return list(await conn.fetch(sql, *args, timeout=30))
        finally:
            await conn.close()

    async def scalar(self, service: str, sql: str, *args: Any) -> Any:
        rows = await self.query(service, sql, *args)
        return rows[0][0] if rows else None


async def complete_with_id_card(platform: Platform) -> list[str]:
    """Items an online application completes with the ID number alone (their only required material
    is the ID card, and they have no 情形 to choose): intake accepts these at once, without asking
    datashare, so every 2xx is a 受理 that must reach the department."""
    rows = await platform.query(
        "intake", "SELECT to_jsonb(c) AS item FROM catalog_item c WHERE effective_to IS NULL ORDER BY item_id"
    )
    items = [json.loads(r["item"]) for r in rows]
    return [
        item["item_id"]
        for item in items
        if not item.get("situations")
        and all(m.get("certificate_type") == "id_card" for m in item["materials"] if m.get("required", True))
    ]


def make_citizens(count: int) -> Sequence[Citizen]:
    return [Citizen(*resident(i)) for i in range(count)]
