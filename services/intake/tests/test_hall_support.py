"""Shared setup of the hall tests: a clock to move, callers of every kind, a small hall, items."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI
from govcodes.idnumber import check_char

from intake.db import MIGRATIONS_DIR
from intake.hall.clock import CHINA, hall_now
from intake.main import create_app
from intake.models import CatalogItem
from messaging.tables import outbox
from servicekit.identity import Identity
from servicekit.testing import OPERATOR, TEST_KEY, app_client, as_caller, migrate

HALL = "test-hall"
# 2026-09-30 is a Wednesday, the last working day before National Day (10-01 to 10-07).
WORKDAY = date(2026, 9, 30)


def id_number(born: str, sequence: str = "001") -> str:
    """A valid GB 11643 number of a Wucheng resident born on `born` (YYYYMMDD)."""
    first17 = "330702" + born + sequence
    return first17 + check_char(first17)


YOUNG = id_number("19900101")
OTHER = id_number("19850505", "013")
ELDER = id_number("19500315", "002")  # 76 on the test days: elderly priority from the number

CITIZEN_SCOPES = frozenset({"catalog:read", "intake:apply", "intake:read"})
STAFF_SCOPES = frozenset({"catalog:read", "intake:apply", "intake:read", "hall:operate"})


def citizen(number: str = YOUNG) -> dict[str, str]:
    return as_caller(Identity(kind="citizen", client_id="zlb-app", scopes=CITIZEN_SCOPES, citizen_id=number))


def staff(window: str | None = "A01") -> dict[str, str]:
    return as_caller(Identity(kind="staff", client_id=f"window-{window}", scopes=STAFF_SCOPES, window=window))


def operator() -> dict[str, str]:
    return as_caller(OPERATOR)


class Clock:
    """The hall's `now`, set in hall time (Asia/Shanghai)."""

    def __init__(self) -> None:
        self.now = datetime.combine(WORKDAY, datetime.min.time(), CHINA).replace(hour=10)

    def set(self, day: date, hhmm: str) -> None:
        hours, minutes = hhmm.split(":")
        self.now = datetime.combine(day, datetime.min.time(), CHINA).replace(
            hour=int(hours), minute=int(minutes)
        )

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Hall:
    app: FastAPI
    client: httpx.AsyncClient
    clock: Clock

    async def post(self, path: str, headers: dict[str, str], body: Any = None) -> httpx.Response:
        return await self.client.post(path, json={} if body is None else body, headers=headers)

    async def take(self, headers: dict[str, str] | None = None, /, **body: Any) -> httpx.Response:
        body = {"hall_id": HALL, "channel": "guide_desk", **body}
        if "item_id" not in body:
            body.setdefault("queue_code", "A")
        return await self.post("/tickets", headers or staff(), body)

    async def events(self) -> list[str]:
        async with self.app.state.engine.connect() as conn:
            return list((await conn.execute(sa.select(outbox.c.event_type).order_by(outbox.c.seq))).scalars())

    async def count(self, table: str, where: str = "1=1") -> int:
        async with self.app.state.engine.connect() as conn:
            return int(
                (
                    await conn.execute(
                        sa.select(sa.func.count()).select_from(sa.table(table)).where(sa.text(where))
                    )
                ).scalar_one()
            )


HOURS: list[dict[str, Any]] = [
    {"kind": "regular", "start": "08:30", "end": "12:00"},
    {"kind": "regular", "start": "14:00", "end": "17:00"},
    {"kind": "extended", "start": "17:00", "end": "18:00", "windows": ["A01"]},
]


async def add_items(app: FastAPI) -> None:
    """The item read model as the catalog's events would have built it."""
    async with app.state.sessions() as session, session.begin():
        for item_id, department in (("wc-mzj-lnyd", "wc-mzj"), ("wc-gafj-hz", "wc-gafj")):
            session.add(
                CatalogItem(
                    item_id=item_id,
                    version=1,
                    implementation_code="11330702002609732X4330520001000",
                    name=f"测试事项{item_id}",
                    department_code=department,
                    handling_type="即办件",
                    deciding_level="district",
                    promised_limit_days=0,
                    promised_limit_unit="工作日",
                    trips=1,
                    minsheng=True,
                    materials=[],
                    effective_from=date(2026, 1, 1),
                    effective_to=None,
                )
            )


@asynccontextmanager
async def hall(url: str, max_calls: int = 3, windows: int = 2) -> AsyncIterator[Hall]:
    """A hall with queues A (综合, default) and B (公安), windows A01.. and B01, and two items."""
    await migrate(MIGRATIONS_DIR, url)
    app = create_app(url, TEST_KEY)
    clock = Clock()
    app.dependency_overrides[hall_now] = clock
    async with app_client(app) as client:
        h = Hall(app, client, clock)
        body = {"id": HALL, "name": "测试大厅", "max_calls": max_calls, "hours": HOURS}
        assert (await h.post("/halls", operator(), body)).status_code == 201
        for queue in (
            {
                "code": "A",
                "name": "综合受理",
                "category": "综合",
                "is_default": True,
                "default_service_s": 600,
            },
            {"code": "B", "name": "公安业务", "category": "公安", "departments": ["wc-gafj"]},
        ):
            assert (await h.post(f"/halls/{HALL}/queues", operator(), queue)).status_code == 201
        codes = [f"A{n:02d}" for n in range(1, windows + 1)]
        for code in codes:
            window = {"code": code, "name": f"综合窗口{code}", "kind": "comprehensive", "queues": ["A"]}
            assert (await h.post(f"/halls/{HALL}/windows", operator(), window)).status_code == 201
        special = {
            "code": "B01",
            "name": "公安窗口",
            "kind": "special",
            "department_code": "wc-gafj",
            "queues": ["B"],
        }
        assert (await h.post(f"/halls/{HALL}/windows", operator(), special)).status_code == 201
        await add_items(app)
        yield h
