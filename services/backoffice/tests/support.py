"""Events, callers and a clock for back-office tests: the app on a migrated database, time fixed."""

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

from backoffice.db import MIGRATIONS_DIR
from backoffice.deadlines import CHINA
from backoffice.handlers import SUBSCRIPTIONS
from backoffice.main import create_app
from contracts.catalog import ItemPublished, StepSpec
from contracts.envelope import Event, new_event
from contracts.intake import ApplicationAccepted
from messaging.tables import outbox
from servicekit.identity import Identity
from servicekit.testing import TEST_KEY, app_client, as_caller, migrate

APPLICANT = "330702195003150013"
OFFICER_SCOPES = frozenset({"backoffice:read", "backoffice:decide"})
MZJ = Identity(kind="staff", client_id="mzj-li", scopes=OFFICER_SCOPES, department="wc-mzj", role="审批员")
MZJ_2 = Identity(
    kind="staff", client_id="mzj-wang", scopes=OFFICER_SCOPES, department="wc-mzj", role="审批员"
)
RSJ = Identity(kind="system", client_id="dept-wc-rsj", scopes=OFFICER_SCOPES, department="wc-rsj")
CITIZEN = Identity(
    kind="citizen", client_id="zlb-app", scopes=frozenset({"rating:write"}), citizen_id=APPLICANT
)
STRANGER = Identity(
    kind="citizen", client_id="zlb-app", scopes=frozenset({"rating:write"}), citizen_id="11010519491231002X"
)
HOTLINE = Identity(kind="system", client_id="hotline-12345", scopes=frozenset({"complaint:write"}))


def at(day: str, hour: int = 10) -> datetime:
    """A moment in Wucheng (UTC+8) as the aware UTC timestamp the services store."""
    return datetime.combine(date.fromisoformat(day), time(hour), CHINA).astimezone(UTC)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def set(self, day: str, hour: int = 10) -> None:
        self.now = at(day, hour)


def item_published(item_id: str = "wc-mzj-lnyd", version: int = 1, **changes: Any) -> Event:
    fields: dict[str, Any] = {
        "item_id": item_id,
        "version": version,
        "base_code": "330520001000",
        "implementation_code": "11330702002609732X4330520001000",
        "name": "老年人优待证办理",
        "department_code": "wc-mzj",
        "handling_type": "承诺件",
        "deciding_level": "district",
        "promised_limit_days": 5,
        "promised_limit_unit": "工作日",
        "legal_limit_days": 20,
        "legal_limit_unit": "工作日",
        "trips": 0,
        "minsheng": True,
        "materials": [],
        "effective_from": date(2025, 1, 1),
        "steps": [
            StepSpec(name="受理", days=0, counts_toward_limit=True),
            StepSpec(name="公示", days=5, counts_toward_limit=False),
            StepSpec(name="审核", days=5, counts_toward_limit=True),
        ],
        "result_name": "老年人优待证",
        "result_certificate_type": "elderly_card",
    }
    fields.update(changes)
    return new_event(
        type="catalog.item.published", source="/catalog", subject=item_id, data=ItemPublished(**fields)
    )


def accepted(
    application_id: str,
    item_id: str = "wc-mzj-lnyd",
    version: int = 1,
    department: str = "wc-mzj",
    accepted_at: datetime | None = None,
) -> Event:
    data = ApplicationAccepted(
        application_id=application_id,
        case_number=f"CASE-{application_id}",
        item_id=item_id,
        item_version=version,
        department_code=department,
        applicant_kind="person",
        applicant_id=APPLICANT,
        applicant_name="王建国",
        accepted_at=accepted_at or at("2025-09-26"),
    )
    return new_event(type="intake.application.accepted", source="/intake", subject=application_id, data=data)


HANDLERS = {t: h for sub in SUBSCRIPTIONS for t, h in sub.handlers.items()}


async def deliver(app: FastAPI, *events: Event) -> None:
    """Each event in its own transaction, as the consumer runs the handler (inbox aside)."""
    for event in events:
        async with app.state.sessions.begin() as session:
            await HANDLERS[event.type](session, event)


@asynccontextmanager
async def backoffice(db_url: str, clock: Clock) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    await migrate(MIGRATIONS_DIR, db_url)
    app = create_app(db_url, TEST_KEY, clock=clock)
    async with app_client(app) as client:
        yield app, client


def caller(identity: Identity) -> dict[str, str]:
    return as_caller(identity)


async def published(app: FastAPI, event_type: str | None = None) -> list[dict[str, Any]]:
    """The outbox, oldest first: (type, data) of every event the back office wrote."""
    query = sa.select(outbox.c.event_type, outbox.c.payload).order_by(outbox.c.seq)
    async with app.state.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        {"type": r.event_type, **json.loads(r.payload)}
        for r in rows
        if event_type is None or r.event_type == event_type
    ]
