"""The whole path on real PostgreSQL, Kafka, SMTP (aiosmtpd) and Kannel: one 受理 event, two sends.

A 受理 event published to Kafka is consumed by notify's worker (consumer + dispatcher); the SMS
goes through Kannel's fake SMSC and its delivery report comes back to the notify API over HTTP;
the e-mail goes to a real SMTP server. The same event delivered again sends nothing new.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from contracts.envelope import Event
from localinfra.kannel import KannelGateway
from messaging.kafka import KafkaConfig, KafkaTransport
from messaging.records import Record, encode
from notify.channels import Channel
from notify.channels.email import SmtpChannel
from notify.channels.kannel import KannelProvider
from notify.channels.sms import SmsChannel
from notify.db import MIGRATIONS_DIR
from notify.dispatcher import Dispatcher
from notify.handlers import HANDLERS
from notify.main import create_app
from notify.models import Message
from notify.schemas import ContactUpdate
from notify.service import save_contact
from servicekit.testing import TEST_KEY, migrate
from servicekit.worker import Subscribe, Worker

from .support import CASE, CITIZEN_ID, CONTACT, PHONE, accepted, eventually, serve, smtp_server


def record(topic: str, event: Event) -> Record:
    value, headers = encode(event)
    return Record(topic=topic, key=event.subject.encode(), value=value, headers=headers)


async def test_one_accepted_event_one_sms_with_its_report_one_email_and_a_redelivery_sends_nothing(
    pg_url: str, kafka_bootstrap: str, kannel: KannelGateway
) -> None:
    await migrate(MIGRATIONS_DIR, pg_url)
    app = create_app(pg_url, TEST_KEY)
    sessions = app.state.sessions
    async with sessions() as session:
        await save_contact(
            session,
            CITIZEN_ID,
            # No quiet hours for this citizen: the run sends on the wall clock, at any hour of the day.
            ContactUpdate.model_validate(
                CONTACT | {"channels": ["sms", "email"], "quiet_start": "08:00", "quiet_end": "08:00"}
            ),
            datetime.now(UTC),
        )
    # A private topic keeps this test's consumer group away from other tests' events.
    topic = f"e2e-notify-{uuid.uuid4().hex[:8]}"
    transport = KafkaTransport(KafkaConfig(bootstrap_servers=kafka_bootstrap, client_id="notify-e2e"))
    sms_before = len(kannel.received())
    stop = asyncio.Event()
    with smtp_server() as (smtp, mailbox):
        async with app.router.lifespan_context(app), serve(app) as base_url:
            channels: dict[str, Channel] = {
                "sms": SmsChannel(
                    KannelProvider(kannel.sendsms_url, kannel.username, kannel.password, base_url)
                ),
                "email": SmtpChannel(smtp.hostname, smtp.port, "noreply@wucheng.gov.cn"),
            }
            dispatcher = Dispatcher(sessions, channels)
            worker = Worker(
                name="notify",
                engine=app.state.engine,
                transport=transport,
                subscriptions=[Subscribe(group=f"g-{topic}", topics=[topic], handlers=HANDLERS)],
            )
            tasks = [asyncio.create_task(worker.run(stop)), asyncio.create_task(dispatcher.run(stop))]
            producer = transport.producer()
            try:
                event = accepted()
                await producer.send_batch([record(topic, event)])

                async def both_final() -> list[Message] | None:
                    async with sessions() as session:
                        rows = list(
                            await session.scalars(sa.select(Message).where(Message.case_number == CASE))
                        )
                    done = {m.channel: m.status for m in rows if m.channel != "inbox"}
                    return rows if done == {"sms": "delivered", "email": "delivered"} else None

                rows = await eventually(both_final, 60)
                assert rows is not None, "the SMS and the e-mail were not both delivered"
                await producer.send_batch([record(topic, event)])  # the broker delivers it again
                consumer = worker.consumers[0]
                assert await eventually(lambda: _true(consumer.duplicates >= 1), 30)
                await asyncio.sleep(1.0)  # give the dispatcher rounds to (wrongly) send again
            finally:
                stop.set()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.gather(*tasks), 30)
                await producer.stop()
                await dispatcher.close()
            async with sessions() as session:
                final = list(await session.scalars(sa.select(Message).order_by(Message.channel)))
    assert [(m.channel, m.status) for m in final] == [
        ("email", "delivered"),
        ("inbox", "delivered"),
        ("sms", "delivered"),
    ]
    sms = final[2]
    assert sms.provider_reference  # from Kannel's delivery report
    handset = kannel.received()[sms_before:]
    assert [(h.receiver, h.text) for h in handset] == [(PHONE, sms.body)]
    assert len(mailbox.messages) == 1
    assert CASE in mailbox.messages[0].get_body(("plain",)).get_content()


async def _true(value: bool) -> bool:
    return value
