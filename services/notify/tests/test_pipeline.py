"""The dispatcher's pipeline on real PostgreSQL and SQLite: a report that beats the sender's record
wins, and stopping puts back what was claimed but not yet handed over."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notify import service
from notify.channels import SENDING, Outbound, Outcome
from notify.channels.push import WebhookPushChannel
from notify.dispatcher import Dispatcher
from notify.handlers import make_handlers
from notify.lifecycle import RetryPolicy
from notify.models import Message
from notify.schemas import ContactUpdate
from notify.service import save_contact

from .support import CITIZEN_ID, CONTACT, Webhook, accepted, eventually, webhook_server

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 11:00 in Wucheng: no quiet hours


async def applications(sessions: async_sessionmaker[AsyncSession], count: int, **channels: object) -> None:
    async with sessions() as session:
        await save_contact(session, CITIZEN_ID, ContactUpdate.model_validate(CONTACT | channels), NOW)
    accept = make_handlers(lambda: NOW)["intake.application.accepted"]
    async with sessions() as session, session.begin():
        for k in range(count):
            await accept(session, accepted(f"11330702MB12345674330520001000202611250{k:03d}"))


class ReportFirst:
    """An SMS provider on a fast network: the delivery report reaches notify's callback before the
    hand-off's own answer does (Kannel can do that), through the same service call as the route."""

    provider = "kannel"
    concurrency = 1

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def send(self, message: Outbound) -> Outcome:
        assert message.callback_token is not None
        async with self._sessions() as session:
            await service.delivery_report(
                session,
                message.message_id,
                message.callback_token,
                1,
                "smsc-42",
                "DELIVRD",
                NOW,
                RetryPolicy(),
            )
        return Outcome(SENDING, reference="kannel-accepted")

    async def close(self) -> None:
        return None


async def test_a_delivery_report_that_comes_first_wins(sessions: async_sessionmaker[AsyncSession]) -> None:
    await applications(sessions, 1, channels=["sms"])
    dispatcher = Dispatcher(sessions, {"sms": ReportFirst(sessions)}, clock=lambda: NOW)
    assert await dispatcher.run_once() == 1
    async with sessions() as session:
        sms = await session.scalar(sa.select(Message).where(Message.channel == "sms"))
    assert sms is not None
    assert (sms.status, sms.provider_reference, sms.attempts) == ("delivered", "smsc-42", 1)


async def test_stopping_puts_back_what_was_claimed_but_not_handed_over(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await applications(sessions, 40, channels=["push"])
    hook = Webhook(delay_s=0.5)
    async with webhook_server(hook) as url:
        push = WebhookPushChannel(url, b"secret")
        dispatcher = Dispatcher(sessions, {"push": push}, clock=lambda: NOW)
        stop = asyncio.Event()
        running = asyncio.create_task(dispatcher.run(stop))
        assert await eventually(lambda: _true(len(hook.received) >= push.concurrency), 20)
        stop.set()
        await asyncio.wait_for(running, 30)
        await dispatcher.close()
    async with sessions() as session:
        rows = (
            await session.execute(
                sa.select(Message.status, Message.attempts).where(Message.channel == "push")
            )
        ).all()
    handed = [r for r in rows if r.status == "delivered"]
    put_back = [r for r in rows if r.status == "created"]
    # The sends under way finished and were recorded; the queued ones are due again, untried.
    assert len(handed) == len(hook.received) >= push.concurrency
    assert len(handed) + len(put_back) == 40
    assert put_back
    assert {r.attempts for r in put_back} == {0}
    assert {r.attempts for r in handed} == {1}


async def _true(value: bool) -> bool:
    return value
