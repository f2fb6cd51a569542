"""Notify worker: `python -m notify.worker` runs its outbox relay, its consumers and the dispatcher."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Coroutine
from typing import Any

from fastapi import FastAPI
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
from notify.settings import ChannelSettings, NotifySettings
from servicekit.db import make_engine, make_sessionmaker
from servicekit.logs import configure_logging
from servicekit.worker import Worker, kafka_transport

log = logging.getLogger(__name__)


def build_channels(settings: ChannelSettings) -> dict[str, Channel]:
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
    settings: ChannelSettings, sessions: async_sessionmaker[AsyncSession], clock: Clock = utc_now
) -> Dispatcher:
    """The dispatcher as the worker runs it; the embedded mode runs the same beside its consumers."""
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


async def dispatch(dispatcher: Dispatcher, stop: asyncio.Event) -> None:
    """Send until `stop`, then close the providers' connections."""
    try:
        await dispatcher.run(stop)
    finally:
        await dispatcher.close()


def embedded_tasks(app: FastAPI, stop: asyncio.Event) -> list[Coroutine[Any, Any, None]]:
    """The embedded platform's dispatcher. It has no mail relay or app of its own: e-mail and push are
    on only where NOTIFY_* configures them, SMS never; the in-app inbox needs none. Messages for a
    channel that is off end at once in technical-failure, with that reason."""
    # No SMS here: Kannel's delivery reports come to notify's own port, which this mode does not open.
    settings = ChannelSettings().model_copy(update={"kannel_sendsms_url": None})
    dispatcher = build_dispatcher(settings, app.state.sessions, app.state.clock)
    log.info("notify channels: %s", ", ".join(["inbox", *sorted(dispatcher.channels)]))
    return [dispatch(dispatcher, stop)]


async def main() -> None:
    settings = NotifySettings()
    configure_logging(f"notify-worker-{settings.role}", settings.log_level)
    engine = make_engine(settings.database_url)
    stop = asyncio.Event()
    jobs: list[Coroutine[Any, Any, None]] = []
    if settings.role != "dispatcher":
        worker = Worker(
            name="notify",
            engine=engine,
            transport=kafka_transport(settings.kafka_bootstrap_servers, "notify"),
            # Several members of the one group: Kafka gives each its share of the partitions.
            subscriptions=list(SUBSCRIPTIONS) * settings.consumers,
            relay_batch_size=settings.relay_batch_size,
            consumer_batch_size=settings.consumer_batch_size,
        )
        jobs.append(worker.run(stop))
    if settings.role != "consumers":
        # Its status events wait in the outbox for the relay of a worker that runs the consumers.
        jobs.append(dispatch(build_dispatcher(settings, make_sessionmaker(engine)), stop))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.gather(*jobs)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
