"""Shared setup of the application tests: items as catalog events build them, callers, a clock, helpers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI
from govcodes.creditcode import check_char as credit_check
from govcodes.idnumber import check_char

from contracts.catalog import ItemPublished, ItemRetired, MaterialSpec, SituationSpec
from contracts.envelope import Event, new_event
from intake.db import MIGRATIONS_DIR
from intake.hall.clock import CHINA, hall_now
from intake.handlers import SUBSCRIPTIONS, item_published
from intake.main import create_app
from intake.settings import ApplicationOptions
from messaging.tables import outbox
from servicekit.identity import Identity
from servicekit.testing import OPERATOR, TEST_KEY, app_client, as_caller, migrate

WANG = "330702195003150013"  # 王建国, the demo citizen
LI = "330702195208210104"  # 李秀英
BAD = "33070219820303001X"  # on the demo bad-credit list
FIRM = "91330702MA20001K1" + credit_check("91330702MA20001K1")  # an enterprise of the demo
IMPLEMENTING = "11330702002609732X"
WORKDAY = date(2026, 9, 30)  # a Wednesday; National Day (10-01 to 10-07) follows

CITIZEN_SCOPES = frozenset({"catalog:read", "intake:apply", "intake:read"})
STAFF_SCOPES = frozenset({"catalog:read", "intake:apply", "intake:read", "hall:operate"})


def id_number(born: str, sequence: str = "001") -> str:
    first17 = "330702" + born + sequence
    return first17 + check_char(first17)


def citizen(number: str = WANG, name: str = "王建国") -> dict[str, str]:
    identity = Identity(
        kind="citizen", client_id="zlb-app", scopes=CITIZEN_SCOPES, citizen_id=number, citizen_name=name
    )
    return as_caller(identity)


def window(code: str = "A01") -> dict[str, str]:
    return as_caller(Identity(kind="staff", client_id=f"window-{code}", scopes=STAFF_SCOPES, window=code))


def department(code: str) -> dict[str, str]:
    scopes = frozenset({"intake:read", "backoffice:read", "backoffice:decide"})
    return as_caller(Identity(kind="system", client_id=f"dept-{code}", scopes=scopes, department=code))


def operator() -> dict[str, str]:
    return as_caller(OPERATOR)


def material(
    name: str, cert: str | None = None, *, required: bool = True, key: bool = True, rongque: bool = False
) -> MaterialSpec:
    sample = f"{name}的填写样稿"
    return MaterialSpec(
        name=name,
        required=required,
        key=key,
        rongque=rongque,
        certificate_type=cert,
        sample=sample,
        form="原件",
        copies=1,
    )


def item(item_id: str, version: int = 1, **changes: Any) -> ItemPublished:
    """A published item version; by default an elderly subsidy (承诺件, 5 working days) of 民政局."""
    fields: dict[str, Any] = {
        "item_id": item_id,
        "version": version,
        "base_code": "330524007000",
        "implementation_code": IMPLEMENTING + "4" + "330524007000",
        "name": "经济困难老年人养老服务补贴",
        "department_code": "wc-mzj",
        "handling_type": "承诺件",
        "deciding_level": "district",
        "promised_limit_days": 5,
        "promised_limit_unit": "工作日",
        "trips": 1,
        "minsheng": True,
        "materials": [
            material("居民身份证", "id_card"),
            material("居民户口簿", "hukou", key=False),
            material("养老服务补贴申请表", key=False, rongque=True),
            material("收入情况说明", key=False, rongque=True),
        ],
        "effective_from": date(2026, 1, 1),
    }
    fields.update(changes)
    return ItemPublished(**fields)


SUBSIDY = item("wc-mzj-ylbt")
ELDERLY_CARD = item(
    "wc-mzj-lnyd",
    base_code="332024002000",
    implementation_code=IMPLEMENTING + "4" + "332024002000",
    name="老年人优待证办理",
    handling_type="即办件",
    promised_limit_days=0,
    trips=0,
    materials=[material("居民身份证", "id_card"), material("浙江省居住证", "residence_permit", key=False)],
    situations=[
        SituationSpec(code="s1", name="本地户籍老年人", materials=["居民身份证"]),
        SituationSpec(code="s2", name="常住外埠老年人", materials=["居民身份证", "浙江省居住证"]),
    ],
)
PASSPORT = item(
    "wc-gafj-hz",
    base_code="000106001000",
    implementation_code=IMPLEMENTING + "4" + "000106001000",
    name="普通护照签发",
    department_code="wc-gafj",
    handling_type="上报件",
    deciding_level="city",
    deciding_department="jh-crj",
    promised_limit_days=7,
    materials=[material("居民身份证", "id_card")],
    result_name="中华人民共和国普通护照",
)
LICENCE = item(
    "wc-scjg-spjy",
    base_code="000117001000",
    implementation_code=IMPLEMENTING + "4" + "000117001000",
    name="食品经营许可",
    department_code="wc-scjg",
    promised_limit_days=10,
    materials=[
        material("营业执照", "business_license"),
        material("食品安全管理制度", key=False, rongque=True),
    ],
)
ITEMS = (SUBSIDY, ELDERLY_CARD, PASSPORT, LICENCE)


def at(day: date, hhmm: str = "10:00") -> datetime:
    hours, minutes = hhmm.split(":")
    return datetime.combine(day, time(int(hours), int(minutes)), CHINA).astimezone(UTC)


class Clock:
    def __init__(self) -> None:
        self.now = at(WORKDAY)

    def set(self, day: date, hhmm: str = "10:00") -> None:
        self.now = at(day, hhmm)

    def __call__(self) -> datetime:
        return self.now


def published(data: ItemPublished) -> Event:
    return new_event(type="catalog.item.published", source="/catalog", subject=data.item_id, data=data)


def retired(item_id: str, version: int, effective_to: date) -> Event:
    data = ItemRetired(item_id=item_id, version=version, effective_to=effective_to)
    return new_event(type="catalog.item.retired", source="/catalog", subject=item_id, data=data)


@dataclass
class Intake:
    app: FastAPI
    client: httpx.AsyncClient
    clock: Clock

    async def post(self, path: str, headers: dict[str, str], body: Any = None, **kw: Any) -> httpx.Response:
        return await self.client.post(path, json=body, headers=headers, **kw)

    async def apply(self, headers: dict[str, str] | None = None, /, **body: Any) -> httpx.Response:
        body = {"item_id": SUBSIDY.item_id, "applicant_id": WANG, "applicant_name": "王建国", **body}
        return await self.post("/applications", headers or citizen(), body)

    async def handle(self, event: Event) -> None:
        """Deliver an event to intake's consumers as the worker would (one transaction)."""
        handler = next(s.handlers[event.type] for s in SUBSCRIPTIONS if event.type in s.handlers)
        async with self.app.state.sessions() as session, session.begin():
            await handler(session, event)

    async def events(self, prefix: str = "intake.") -> list[tuple[str, dict[str, Any]]]:
        async with self.app.state.engine.connect() as conn:
            rows = await conn.execute(sa.select(outbox.c.event_type, outbox.c.payload).order_by(outbox.c.seq))
            return [
                (t, _payload(p))
                for t, p in rows
                if t.startswith(prefix) and not t.startswith("intake.ticket")
            ]

    async def count(self, table: str) -> int:
        async with self.app.state.engine.connect() as conn:
            return int(
                (await conn.execute(sa.select(sa.func.count()).select_from(sa.table(table)))).scalar_one()
            )


def _payload(value: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(value)
    return data


@asynccontextmanager
async def intake(url: str, options: ApplicationOptions | None = None) -> AsyncIterator[Intake]:
    await migrate(MIGRATIONS_DIR, url)
    # Items are read afresh for every request unless a test says otherwise (the cache has its own test).
    app = create_app(url, TEST_KEY, options or ApplicationOptions(datashare_url=None, item_cache_s=0))
    clock = Clock()
    app.dependency_overrides[hall_now] = clock
    async with app_client(app) as client:
        test = Intake(app, client, clock)
        async with app.state.sessions() as session, session.begin():
            for data in ITEMS:
                await item_published(session, published(data))
        yield test
