"""Datashare releases a certificate; notify tells its subject: the event datashare writes (its own
subject hash, from its outbox) reaches the right citizen through notify's consumer, on PostgreSQL."""

from __future__ import annotations

import importlib.util
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from messaging.records import Record, decode
from messaging.tables import outbox
from notify.db import MIGRATIONS_DIR as NOTIFY_MIGRATIONS
from notify.handlers import HANDLERS
from notify.models import Message
from notify.schemas import ContactUpdate
from notify.service import save_contact
from servicekit.db import make_engine, make_sessionmaker
from servicekit.testing import migrate

# Datashare's own test helpers, loaded by path: tests/ spans services, services never import each other.
_SUPPORT_PATH = Path(__file__).resolve().parents[2] / "services" / "datashare" / "tests" / "support.py"
_spec = importlib.util.spec_from_file_location("datashare_test_support", _SUPPORT_PATH)
assert _spec is not None
assert _spec.loader is not None
support: Any = importlib.util.module_from_spec(_spec)
sys.modules["datashare_test_support"] = support
_spec.loader.exec_module(support)


async def test_a_released_certificate_is_told_to_its_subject(pg_cluster: Any) -> None:
    datashare_url = pg_cluster.create_database(f"datashare_{os.urandom(4).hex()}")
    notify_url = pg_cluster.create_database(f"notify_{os.urandom(4).hex()}")
    async with support.datashare(datashare_url) as ds:
        await ds.entitle("wc-mzj", "hukou")
        # The citizen's number as a window might type it: datashare normalises before hashing.
        asked = support.ask("hukou", f" {support.WANG.lower()} ")
        answer = await ds.client.post("/evidence-requests", json=asked, headers=support.department("wc-mzj"))
        assert answer.status_code in (200, 201), answer.text
        async with ds.app.state.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(outbox.c.topic, outbox.c.key, outbox.c.payload, outbox.c.headers).where(
                        outbox.c.event_type == "datashare.evidence.released"
                    )
                )
            ).all()
    [row] = rows
    # What the relay publishes and notify's consumer decodes.
    headers = tuple((k, v.encode()) for k, v in row.headers)
    released = decode(Record(topic=row.topic, key=row.key.encode(), value=row.payload, headers=headers))

    await migrate(NOTIFY_MIGRATIONS, notify_url)
    engine = make_engine(notify_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as session:
            contact = ContactUpdate(name="王建国", channels=["inbox"])
            await save_contact(session, support.WANG, contact, datetime.now(UTC))
            await save_contact(session, support.LI, contact, datetime.now(UTC))  # someone else
        async with sessions.begin() as session:
            await HANDLERS[released.type](session, released)
        async with sessions() as session:
            told = (
                await session.execute(sa.select(Message.recipient_id, Message.template, Message.body))
            ).all()
    finally:
        await engine.dispose()
    assert [(r.recipient_id, r.template) for r in told] == [(support.WANG, "data_accessed")]
    assert "wc-mzj" in told[0].body
    assert "户口簿" in told[0].body
