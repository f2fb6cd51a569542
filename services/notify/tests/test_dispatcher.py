"""The dispatcher against a real SMTP server and a real webhook: sends, quiet hours, retries, dead letters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.envelope import Event
from messaging.tables import outbox
from notify.channels.email import SmtpChannel
from notify.channels.push import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookPushChannel, verify
from notify.dispatcher import Dispatcher
from notify.handlers import make_handlers
from notify.lifecycle import RetryPolicy
from notify.models import Alert, DeadLetter, Message
from notify.schemas import ContactUpdate
from notify.service import save_contact

from .support import CASE, CITIZEN_ID, CONTACT, Webhook, accepted, free_port, smtp_server, webhook_server

SECRET = b"push-secret"
POLICY = RetryPolicy(attempts=3, first_delay=timedelta(seconds=30))


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def receive(
    sessions: async_sessionmaker[AsyncSession], event: Event, clock: FakeClock, **contact: object
) -> None:
    async with sessions() as session:
        await save_contact(session, CITIZEN_ID, ContactUpdate.model_validate(CONTACT | contact), clock())
    async with sessions() as session, session.begin():
        await make_handlers(clock)[event.type](session, event)


async def by_channel(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Message]:
    async with sessions() as session:
        return {m.channel: m for m in await session.scalars(sa.select(Message))}


async def test_email_goes_out_over_smtp_as_text_and_html(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock(datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
    await receive(sessions, accepted(), clock, channels=["email"])
    with smtp_server() as (controller, mailbox):
        email = SmtpChannel(controller.hostname, controller.port, "noreply@wucheng.gov.cn")
        dispatcher = Dispatcher(sessions, {"email": email}, clock=clock, policy=POLICY)
        assert await dispatcher.run_once() == 1
        assert await dispatcher.run_once() == 0
        await dispatcher.close()
    (mail,) = mailbox.messages
    assert mail["Subject"] == "申请已受理"
    assert mail["To"] == "wang.jianguo@example.com"
    assert "婺城政务服务" in mail["From"]
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None
    assert html is not None
    assert CASE in text.get_content()
    assert "<h1>申请已受理</h1>" in html.get_content()
    sent = (await by_channel(sessions))["email"]
    assert (sent.status, sent.provider, sent.attempts) == ("delivered", "smtp", 1)
    assert mail["Message-ID"] == f"<{sent.id}@wucheng.gov.cn>"


async def test_a_refused_mailbox_is_a_permanent_failure(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock(datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
    await receive(sessions, accepted(), clock, channels=["email"])
    with smtp_server() as (controller, mailbox):
        mailbox.refuse.add("wang.jianguo@example.com")
        dispatcher = Dispatcher(
            sessions, {"email": SmtpChannel(controller.hostname, controller.port, "n@x.cn")}, clock=clock
        )
        await dispatcher.run_once()
        await dispatcher.close()
    email = (await by_channel(sessions))["email"]
    assert email.status == "permanent-failure"
    assert "recipient refused" in (email.reason or "")
    assert "wang.jianguo@" not in (email.reason or "")  # reasons reach logs and alerts: masked


async def test_a_dead_smtp_server_is_retried_with_back_off_then_dead_lettered_with_an_alert(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock(datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
    await receive(sessions, accepted(), clock, channels=["email"])
    nobody = SmtpChannel("127.0.0.1", free_port(), "n@x.cn", timeout_s=2)
    dispatcher = Dispatcher(sessions, {"email": nobody}, clock=clock, policy=POLICY)
    waits = []
    for _attempt in range(POLICY.attempts):
        assert await dispatcher.run_once() == 1
        email = (await by_channel(sessions))["email"]
        if email.next_attempt_at is not None:
            waits.append(email.next_attempt_at - clock.now)
            assert await dispatcher.run_once() == 0  # not due yet
            clock.now = email.next_attempt_at
    assert [round(w / timedelta(seconds=30)) for w in waits] in ([1, 2], [1, 1], [1, 2])
    assert waits[1] > waits[0] * 1.2
    assert (email.status, email.attempts) == ("technical-failure", 3)
    assert "SMTP unreachable" in (email.reason or "")
    async with sessions() as session:
        (dead,) = await session.scalars(sa.select(DeadLetter))
        (alert,) = await session.scalars(sa.select(Alert))
        types = list(await session.scalars(sa.select(outbox.c.event_type)))
    assert (dead.message_id, dead.attempts) == (email.id, 3)
    assert alert.kind == "dead_letter"
    assert "notify.message.dead_lettered" in types


async def test_a_failing_webhook_is_retried_then_dead_lettered_and_a_good_one_is_signed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock(datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
    await receive(sessions, accepted(), clock, channels=["push"])
    hook = Webhook(answers=[500, 503, 500])
    async with webhook_server(hook) as url:
        dispatcher = Dispatcher(
            sessions, {"push": WebhookPushChannel(url, SECRET)}, clock=clock, policy=POLICY
        )
        for _ in range(POLICY.attempts):
            await dispatcher.run_once()
            push = (await by_channel(sessions))["push"]
            clock.now = push.next_attempt_at or clock.now
        await dispatcher.close()
    assert len(hook.received) == 3
    assert (push.status, push.attempts) == ("technical-failure", 3)
    assert "500" in (push.reason or "")
    headers, body = hook.received[0]
    assert verify(SECRET, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert headers["Idempotency-Key"] == push.id
    assert json.loads(body)["push_id"] == "device-1"
    async with sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(DeadLetter)) == 1
        assert await session.scalar(sa.select(sa.func.count()).select_from(Alert)) == 1


async def test_a_slow_webhook_times_out_and_a_gone_device_is_permanent(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock(datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
    await receive(sessions, accepted(), clock, channels=["push"])
    hook = Webhook(answers=[200, 410], delay_s=1.5)
    async with webhook_server(hook) as url:
        dispatcher = Dispatcher(
            sessions, {"push": WebhookPushChannel(url, SECRET, timeout_s=0.5)}, clock=clock, policy=POLICY
        )
        await dispatcher.run_once()
        push = (await by_channel(sessions))["push"]
        assert (push.status, push.attempts) == ("temporary-failure", 1)
        assert "timed out" in (push.reason or "")
        hook.delay_s = 0
        clock.now = push.next_attempt_at or clock.now
        await dispatcher.run_once()
        await dispatcher.close()
    push = (await by_channel(sessions))["push"]
    assert push.status == "permanent-failure"
    assert "410" in (push.reason or "")


async def test_a_quiet_hours_sms_waits_for_eight_unless_urgent(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    night = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 23:00 in Wucheng
    clock = FakeClock(night)
    await receive(sessions, accepted(), clock, channels=["sms"])
    hook = Webhook()
    async with webhook_server(hook) as url:
        # The SMS channel is not needed to see it wait: it must not even be asked.
        dispatcher = Dispatcher(
            sessions, {"push": WebhookPushChannel(url, SECRET)}, clock=clock, policy=POLICY
        )
        assert await dispatcher.run_once() == 0
        sms = (await by_channel(sessions))["sms"]
        assert (sms.status, sms.attempts) == ("created", 0)
        assert sms.next_attempt_at == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)  # 08:00 in Wucheng
        clock.now = datetime(2026, 11, 25, 23, 59, tzinfo=UTC)
        assert await dispatcher.run_once() == 0
        clock.now = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
        await dispatcher.run_once()  # due now: handed on, here to a channel that is not configured
    sms = (await by_channel(sessions))["sms"]
    assert sms.status == "technical-failure"
    assert "not configured" in (sms.reason or "")
