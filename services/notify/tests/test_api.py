"""The notify API on real PostgreSQL and SQLite: inbox, contacts, operators' views, and bad input."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from notify.db import MIGRATIONS_DIR
from notify.handlers import make_handlers
from notify.main import create_app
from notify.models import Message
from notify.seed import load_demo_contacts
from servicekit.testing import OPERATOR, TEST_KEY, app_client, as_caller, migrate

from .support import CASE, CITIZEN, CITIZEN_ID, OTHER, accepted

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


@pytest.fixture
async def api(db_url: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    await migrate(MIGRATIONS_DIR, db_url)
    app = create_app(db_url, TEST_KEY, clock=lambda: NOW, max_attempts=2)
    async with app_client(app) as client:
        yield app, client


async def receive(app: FastAPI, case_number: str = CASE) -> None:
    async with app.state.sessions() as session, session.begin():
        await make_handlers(lambda: NOW)["intake.application.accepted"](session, accepted(case_number))


async def test_the_app_registers_contacts_and_bad_ones_are_refused(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = api
    me = as_caller(CITIZEN)
    assert (await client.get("/contacts/me", headers=me)).status_code == 404
    saved = await client.put(
        "/contacts/me",
        headers=me,
        json={"phone": "+86 138 0057 9001", "email": "Wang@Example.com", "channels": ["sms"]},
    )
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert (body["phone"], body["email"], body["owner_id"]) == (
        "138****9001",
        "W***@example.com",
        "330702********0013",
    )
    assert body["channels"] == ["inbox", "sms"]
    for bad, field in (
        ({"phone": "12345"}, "phone"),
        ({"email": "wang@"}, "email"),
        ({"channels": ["fax"]}, "channels"),
    ):
        refused = await client.put("/contacts/me", headers=me, json=bad)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"].startswith(field)
    assert (await client.put("/contacts/me", headers=me, json={"extra": 1})).status_code == 422
    assert (await client.put("/contacts/me", headers=as_caller(OPERATOR), json={})).status_code == 403
    assert (await client.get("/contacts/me", headers=me)).json()["phone"] == "138****9001"


async def test_operators_register_departments_and_citizens_by_valid_ids(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = api
    ops = as_caller(OPERATOR)
    assert (
        await client.put("/contacts/dept:wc-mzj", headers=ops, json={"email": "duty@example.com"})
    ).status_code == 200
    assert (await client.put(f"/contacts/{CITIZEN_ID}", headers=ops, json={})).status_code == 200
    bad = await client.put("/contacts/330702195003150014", headers=ops, json={})  # wrong check character
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "owner_id"
    assert (
        await client.put(f"/contacts/{CITIZEN_ID}", headers=as_caller(CITIZEN), json={})
    ).status_code == 403


async def test_a_citizen_reads_their_inbox_and_marks_messages_read(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = api
    await receive(app)
    await receive(app, CASE[:-1] + "2")
    me = as_caller(CITIZEN)
    page = (await client.get("/inbox", headers=me)).json()
    assert (page["total"], page["unread"]) == (2, 2)
    first = page["items"][0]
    assert first["title"] == "申请已受理"
    read = await client.post(f"/inbox/{first['id']}/read", headers=me)
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    assert (await client.get("/inbox", headers=me, params={"unread_only": True})).json()["total"] == 1
    assert (await client.post(f"/inbox/{first['id']}/read", headers=as_caller(OTHER))).status_code == 404
    assert (await client.post("/inbox/nope/read", headers=me)).status_code == 404
    assert (await client.get("/inbox", headers=as_caller(OPERATOR))).status_code == 403
    assert (await client.get("/inbox", headers=me, params={"limit": 0})).status_code == 422
    assert (await client.get("/inbox")).status_code == 401
    by_case = await client.get("/messages", headers=me, params={"case_number": CASE})
    assert [m["channel"] for m in by_case.json()] == ["inbox"]
    assert (
        await client.get("/messages", headers=as_caller(OTHER), params={"case_number": CASE})
    ).json() == []


async def test_operators_see_delivery_records_templates_triggers_and_alerts(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = api
    assert await load_demo_contacts(app.state.sessions) == 2
    assert await load_demo_contacts(app.state.sessions) == 0
    await receive(app)
    ops = as_caller(OPERATOR)
    messages = (await client.get("/messages", headers=ops, params={"case_number": CASE})).json()
    assert sorted(m["channel"] for m in messages) == ["email", "inbox", "push", "sms"]
    sms_id = next(m["id"] for m in messages if m["channel"] == "sms")
    detail = (await client.get(f"/messages/{sms_id}", headers=ops)).json()
    assert (detail["address"], detail["recipient"], detail["segments"]) == (
        "138****9001",
        "330702********0013",
        2,
    )
    assert (await client.get("/messages/unknown", headers=ops)).status_code == 404
    assert (await client.get(f"/messages/{sms_id}", headers=as_caller(CITIZEN))).status_code == 403
    templates = (await client.get("/templates", headers=ops)).json()
    assert {(t["name"], t["version"], t["latest"]) for t in templates} >= {
        ("application_accepted", 1, False),
        ("application_accepted", 2, True),
    }
    triggers = (await client.get("/triggers", headers=ops)).json()
    assert [t["event_type"] for t in triggers if not t["live"]] == []  # every event is published
    assert {"intake.output.ready", "backoffice.task.resumed"} <= {t["event_type"] for t in triggers}
    assert (await client.get("/alerts", headers=ops)).json() == []
    assert (await client.get("/dead-letters", headers=ops)).json() == []
    assert (await client.get("/alerts", headers=ops, params={"limit": 500})).status_code == 422
    assert (await client.post("/dead-letters/unknown/redrive", headers=ops)).status_code == 404
    assert (await client.get("/templates", headers=as_caller(CITIZEN))).status_code == 403
    assert (await client.get("/triggers", headers=as_caller(CITIZEN))).status_code == 403
    assert (
        await client.get("/dead-letters", headers=ops, params={"pending_only": "maybe"})
    ).status_code == 422
    assert (await client.get("/messages", headers=ops, params={"case_number": "short"})).status_code == 422


async def test_delivery_reports_need_the_attempts_secret_then_move_the_message(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = api
    await load_demo_contacts(app.state.sessions)
    await receive(app)
    token = "t" * 32
    async with app.state.sessions() as session, session.begin():
        sms = await session.scalar(sa.select(Message).where(Message.channel == "sms"))
        assert sms is not None
        sms.status, sms.attempts = "sending", 1
        sms.callback_token_hash = hashlib.sha256(token.encode()).hexdigest()
    url = f"/callbacks/kannel/{sms.id}"
    assert (await client.get(url, params={"token": "x" * 32, "type": 1})).status_code == 404
    assert (await client.get("/callbacks/kannel/nope", params={"token": token, "type": 1})).status_code == 404
    assert (await client.get(url, params={"token": token, "type": "delivered"})).status_code == 422
    assert (await client.get(url, params={"token": "short", "type": 1})).status_code == 422
    interim = await client.get(url, params={"token": token, "type": 8, "reply": "ACK/"})
    assert interim.json()["status"] == "sending"
    expired = await client.get(url, params={"token": token, "type": 2, "reply": "id:1 stat:EXPIRED err:000"})
    assert expired.json()["status"] == "temporary-failure"  # the first of two attempts: tried again later
    async with app.state.sessions() as session, session.begin():
        again = await session.get(Message, sms.id)
        assert again is not None
        assert again.next_attempt_at is not None
        again.status, again.attempts = "sending", 2
    final = await client.get(
        url, params={"token": token, "type": 2, "reply": "stat:EXPIRED", "reference": "r-9"}
    )
    assert final.json()["status"] == "temporary-failure"
    repeat = await client.get(url, params={"token": token, "type": 1})
    assert repeat.json()["status"] == "temporary-failure"  # a final status is not moved by a late report
    ops = as_caller(OPERATOR)
    (dead,) = (await client.get("/dead-letters", headers=ops)).json()
    assert dead["message_id"] == sms.id
    assert (await client.get("/alerts", headers=ops)).json()[0]["kind"] == "dead_letter"
    redriven = await client.post(f"/dead-letters/{dead['id']}/redrive", headers=ops)
    assert redriven.status_code == 200
    assert (await client.post(f"/dead-letters/{dead['id']}/redrive", headers=ops)).status_code == 409
    detail = (await client.get(f"/messages/{sms.id}", headers=ops)).json()
    assert (detail["status"], detail["attempts"], detail["provider_reference"]) == ("created", 0, "r-9")
