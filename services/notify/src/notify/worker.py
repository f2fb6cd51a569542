"""Notify worker: `python -m notify.worker` runs its outbox relay, its consumers and the dispatcher."""

from __future__ import annotations

import asyncio
import signal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notify.channels import Channel
from notify.channels.email import SmtpChannel
from notify.channels.kannel import KannelProvider
from notify.channels.push import WebhookPushChannel
from notify.channels.sms import SmsChannel
from notify.clock import Clock, utc_now
from notify.dispatcher import Dispatcher
from notify.handlers import SUBSCRIPTIONS
from notify.lifecycle import RetryPolicy
from notify.settings import NotifySettings
from servicekit.db import make_engine, make_sessionmaker
from servicekit.logs import configure_logging
from servicekit.worker import Worker, kafka_transport


def build_channels(settings: NotifySettings) -> dict[str, Channel]:
    """The channels whose settings are given; messages for the others end in technical-failure."""
    channels: dict[str, Channel] = {}
    if settings.smtp_host:
        channels["email"] = SmtpChannel(
            settings.smtp_host,
            settings.smtp_port,
            settings.email_sender,
            connections=settings.smtp_connections,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            start_tls=settings.smtp_start_tls,
        )
    if settings.kannel_sendsms_url and settings.kannel_password:
        provider = KannelProvider(
            settings.kannel_sendsms_url,
            settings.kannel_username,
            settings.kannel_password.get_secret_value(),
            settings.callback_base_url,
            sender=settings.sms_sender,
        )
        channels["sms"] = SmsChannel(provider)
    if settings.push_webhook_url and settings.push_secret:
        channels["push"] = WebhookPushChannel(
            settings.push_webhook_url, settings.push_secret.get_secret_value().encode()
        )
    return channels


def build_dispatcher(
    settings: NotifySettings, sessions: async_sessionmaker[AsyncSession], clock: Clock = utc_now
) -> Dispatcher:
    """The dispatcher as the worker runs it; the embedded mode may run the same next to its workers."""
    return Dispatcher(
        sessions,
        build_channels(settings),
        clock=clock,
        policy=RetryPolicy(attempts=settings.max_attempts),
        rates={
            "sms": settings.sms_rate_per_s,
            "email": settings.email_rate_per_s,
            "push": settings.push_rate_per_s,
        },
        batch_size=settings.dispatch_batch,
    )


async def main() -> None:
    settings = NotifySettings()
    configure_logging("notify-worker", settings.log_level)
    engine = make_engine(settings.database_url)
    worker = Worker(
        name="notify",
        engine=engine,
        transport=kafka_transport(settings.kafka_bootstrap_servers, "notify"),
        # Several members of the one group: Kafka gives each its share of the partitions.
        subscriptions=list(SUBSCRIPTIONS) * settings.consumers,
        relay_batch_size=settings.relay_batch_size,
        consumer_batch_size=settings.consumer_batch_size,
    )
    dispatcher = build_dispatcher(settings, make_sessionmaker(engine))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.gather(worker.run(stop), dispatcher.run(stop))
    finally:
        await dispatcher.close()
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
