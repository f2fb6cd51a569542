"""The dispatcher as the embedded platform runs it (`notify.worker.embedded_tasks`): providers only
where NOTIFY_* configures them; a message for a channel that is off ends at once with that reason."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from notify.db import MIGRATIONS_DIR
from notify.handlers import make_handlers
from notify.main import create_app
from notify.models import Message
from notify.schemas import ContactUpdate
from notify.service import save_contact
from notify.worker import embedded_tasks
from servicekit.testing import TEST_KEY, migrate

from .support import CASE, CITIZEN_ID, CONTACT, accepted, daytime, eventually, smtp_server


async def test_the_embedded_dispatcher_sends_over_the_configured_channels_only(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await migrate(MIGRATIONS_DIR, db_url)
    app = create_app(db_url, TEST_KEY, clock=daytime)
    sessions = app.state.sessions
    now = daytime()
    async with sessions() as session:
        wanted = ContactUpdate.model_validate(CONTACT | {"channels": ["sms", "email"]})
        await save_contact(session, CITIZEN_ID, wanted, now)
    async with sessions() as session, session.begin():
        await make_handlers(lambda: now)["intake.application.accepted"](session, accepted())
    stop = asyncio.Event()
    with smtp_server() as (smtp, mailbox):
        monkeypatch.setenv("NOTIFY_SMTP_HOST", smtp.hostname)
        monkeypatch.setenv("NOTIFY_SMTP_PORT", str(smtp.port))
        # SMS stays off even when configured: Kannel's reports could not reach this mode.
        monkeypatch.setenv("NOTIFY_KANNEL_SENDSMS_URL", "http://127.0.0.1:9/cgi-bin/sendsms")
        monkeypatch.setenv("NOTIFY_KANNEL_PASSWORD", "unused")
        async with app.router.lifespan_context(app):
            jobs = [asyncio.create_task(job) for job in embedded_tasks(app, stop)]

            async def settled() -> dict[str, str] | None:
                async with sessions() as session:
                    rows = (await session.execute(sa.select(Message.channel, Message.status))).all()
                statuses = {channel: status for channel, status in rows}
                return None if {"created", "sending"} & set(statuses.values()) else statuses

            statuses = await eventually(settled, 20)
            stop.set()
            await asyncio.wait_for(asyncio.gather(*jobs), 20)
    assert statuses == {"email": "delivered", "inbox": "delivered", "sms": "technical-failure"}
    assert len(mailbox.messages) == 1
    assert CASE in mailbox.messages[0].get_body(("plain",)).get_content()
    async with sessions() as session:
        reason = await session.scalar(sa.select(Message.reason).where(Message.channel == "sms"))
    assert reason == "通道未配置 (channel sms not configured)"
