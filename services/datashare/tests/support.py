"""Callers, a seeded datashare app and helpers for the datashare tests (real databases, no mocks)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from datashare.db import MIGRATIONS_DIR
from datashare.main import create_app
from datashare.seed import load_demo
from messaging.tables import outbox
from servicekit.identity import Identity
from servicekit.testing import OPERATOR, TEST_KEY, app_client, as_caller, migrate

WANG = "330702195003150013"  # 王建国, the gateway's demo citizen
LI = "330702195208210104"  # 李秀英, his wife
SUN = "330702194812120194"  # 孙国强: disability card, no consent
WU = "330702197009090831"  # 吴海涛: expired ID card
ZHOU = "330702196004180665"  # 周丽华: 社保参保证明 issued 200 days ago
NOBODY = "330702200001010117"  # valid, but datashare holds nothing about them
REVOKED_FIRM = "91330702MA20005K54"  # 婺城区兴旺建材商行: licence revoked
ITEM = "wc-mzj-lnyd"


class Caller(Mapping[str, str]):
    """The gateway's identity header for a caller, signed afresh on every use (it expires in 60 s)."""

    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    def _headers(self) -> dict[str, str]:
        return as_caller(self.identity)

    def __getitem__(self, key: str) -> str:
        return self._headers()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers())

    def __len__(self) -> int:
        return len(self._headers())


def department(code: str, *scopes: str) -> Caller:
    identity = Identity(
        kind="system",
        client_id=f"dept-{code}",
        scopes=frozenset(scopes or ("datashare:request", "backoffice:decide")),
        department=code,
    )
    return Caller(identity)


def citizen(citizen_id: str) -> Caller:
    scopes = frozenset({"datashare:read"})
    return Caller(Identity(kind="citizen", client_id="zlb-app", scopes=scopes, citizen_id=citizen_id))


INTAKE = Caller(Identity(kind="system", client_id="intake", scopes=frozenset({"datashare:request"})))
OPS = Caller(OPERATOR)


def ask(certificate_type: str, subject_id: str = WANG, **changes: Any) -> dict[str, Any]:
    body = {
        "certificate_type": certificate_type,
        "subject_id": subject_id,
        "item_id": ITEM,
        "case_number": "11330702002676717943305200010002026112500001",
        "officer": "民政窗口 张晓燕",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


@dataclass
class Datashare:
    app: FastAPI
    client: httpx.AsyncClient

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.app.state.engine.connect() as conn:
            return (await conn.execute(sa.text(sql), params)).scalar()

    async def released_events(self) -> int:
        async with self.app.state.engine.connect() as conn:
            query = sa.select(sa.func.count()).where(outbox.c.event_type == "datashare.evidence.released")
            return int((await conn.execute(query)).scalar_one())

    async def log_rows(self) -> list[Any]:
        async with self.app.state.engine.connect() as conn:
            query = sa.text(
                "SELECT seq, consumer_code, outcome, reason, subject_mask FROM access_log ORDER BY seq"
            )
            return list((await conn.execute(query)).all())

    async def entitle(self, consumer: str, certificate_type: str, item_id: str | None = ITEM) -> str:
        body = {"consumer": consumer, "certificate_type": certificate_type, "item_id": item_id}
        response = await self.client.post("/access-rules", json=body, headers=OPS)
        assert response.status_code == 201, response.text
        rule_id: str = response.json()["id"]
        return rule_id


@asynccontextmanager
async def datashare(
    url: str, *, signing_key: str | None = None, seed: bool = True
) -> AsyncIterator[Datashare]:
    await migrate(MIGRATIONS_DIR, url)
    app = create_app(url, TEST_KEY, signing_key=signing_key)
    async with app_client(app) as client:
        if seed:
            await load_demo(app.state.sessions)
        yield Datashare(app, client)
