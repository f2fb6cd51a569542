"""SMS through a real Kannel (bearerbox + smsbox + fake SMSC), delivery reports back over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from localinfra.kannel import KannelGateway
from notify.channels.kannel import KannelProvider
from notify.channels.sms import SmsChannel
from notify.db import MIGRATIONS_DIR
from notify.dispatcher import Dispatcher
from notify.handlers import make_handlers
from notify.main import create_app
from notify.models import Message
from notify.schemas import ContactUpdate
from notify.service import save_contact
from servicekit.testing import TEST_KEY, migrate

from .support import CITIZEN_ID, CONTACT, PHONE, accepted, daytime, eventually, serve


@pytest.fixture
async def notify(
    pg_url: str, kannel: KannelGateway
) -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], Dispatcher]]:
    await migrate(MIGRATIONS_DIR, pg_url)
    app = create_app(pg_url, TEST_KEY)
    async with app.router.lifespan_context(app), serve(app) as base_url:
        provider = KannelProvider(kannel.sendsms_url, kannel.username, kannel.password, base_url, timeout_s=3)
        dispatcher = Dispatcher(app.state.sessions, {"sms": SmsChannel(provider)}, clock=daytime)
        yield app.state.sessions, dispatcher
        await dispatcher.close()


async def accept(sessions: async_sessionmaker[AsyncSession], **changes: Any) -> None:
    async with sessions() as session:
        await save_contact(
            session,
            CITIZEN_ID,
            ContactUpdate.model_validate(CONTACT | {"channels": ["sms"]}),
            datetime.now(UTC),
        )
    async with sessions() as session, session.begin():
        await make_handlers(lambda: datetime(2026, 11, 25, 3, 0, tzinfo=UTC))["intake.application.accepted"](
            session, accepted(**changes)
        )


async def sms(sessions: async_sessionmaker[AsyncSession]) -> Message:
    async with sessions() as session:
        message = await session.scalar(sa.select(Message).where(Message.channel == "sms"))
        assert message is not None
        return message


async def test_an_sms_reaches_the_handset_and_its_delivery_report_comes_back(
    notify: tuple[async_sessionmaker[AsyncSession], Dispatcher], kannel: KannelGateway
) -> None:
    sessions, dispatcher = notify
    before = len(kannel.received())
    await accept(sessions)
    assert await dispatcher.run_once() == 1

    async def delivered() -> Message | None:
        message = await sms(sessions)
        return message if message.status == "delivered" else None

    message = await eventually(delivered)
    assert message is not None, f"no delivery report: {(await sms(sessions)).status}"
    assert message.provider == "kannel"
    assert message.provider_reference  # the SMSC's own message id, from the report
    assert message.completed_at is not None
    (handset,) = kannel.received()[before:]
    assert handset.receiver == PHONE
    assert handset.text == message.body
    assert handset.text.startswith("【婺城政务服务】王建国您好")
    assert handset.parts == message.segments == 2


async def test_kannel_down_is_retried_later_and_a_bad_number_never_reaches_it(
    notify: tuple[async_sessionmaker[AsyncSession], Dispatcher], kannel: KannelGateway
) -> None:
    sessions, dispatcher = notify
    await accept(sessions)
    kannel.stop_smsbox()
    try:
        await dispatcher.run_once()
    finally:
        kannel.start_smsbox()
    message = await sms(sessions)
    assert (message.status, message.attempts) == ("temporary-failure", 1)
    assert "Kannel unreachable" in (message.reason or "")
    assert message.next_attempt_at is not None

    async with sessions() as session, session.begin():
        await session.execute(sa.delete(Message))
    before = len(kannel.received())
    await accept(sessions, case_number="11330702MB12345674330520001000202611250002")
    async with sessions() as session, session.begin():  # a number kept from before today's checks
        await session.execute(sa.update(Message).values(address="12300001111"))
    await dispatcher.run_once()
    message = await sms(sessions)
    assert message.status == "permanent-failure"
    assert "not a valid mainland China number" in (message.reason or "")
    assert len(kannel.received()) == before
