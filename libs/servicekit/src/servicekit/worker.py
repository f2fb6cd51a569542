"""The worker process of a service: its outbox relay and its consumers, until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from messaging.consumer import EventConsumer, Handler
from messaging.kafka import KafkaConfig, KafkaTransport
from messaging.relay import OutboxRelay
from messaging.transport import Transport
from servicekit.db import make_engine, make_sessionmaker
from servicekit.logs import configure_logging
from servicekit.settings import ServiceSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subscribe:
    """One consumer group of a service: the topics it reads and its handlers by event type."""

    group: str
    topics: Sequence[str]
    handlers: Mapping[str, Handler]


@dataclass
class Worker:
    name: str
    engine: AsyncEngine
    transport: Transport
    subscriptions: Sequence[Subscribe] = ()
    relay_batch_size: int = 500
    consumer_batch_size: int = 200
    relay: OutboxRelay | None = field(default=None, init=False)
    consumers: list[EventConsumer] = field(default_factory=list, init=False)

    async def run(self, stop: asyncio.Event) -> None:
        topics = [t for sub in self.subscriptions for t in sub.topics]
        if topics:
            await self.transport.ensure_topics(topics)
        producer = self.transport.producer()
        self.relay = OutboxRelay(self.engine, producer, batch_size=self.relay_batch_size)
        sessions = make_sessionmaker(self.engine)
        self.consumers = [
            EventConsumer(
                sub.group,
                self.transport.subscription(sub.group, sub.topics),
                sessions,
                sub.handlers,
                producer,
                batch_size=self.consumer_batch_size,
            )
            for sub in self.subscriptions
        ]
        tasks = [asyncio.create_task(self.relay.run(stop), name=f"{self.name}-relay")]
        tasks += [asyncio.create_task(c.run(stop), name=c.name) for c in self.consumers]
        log.info("%s worker running: relay + %d consumer(s)", self.name, len(self.consumers))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await producer.stop()


def kafka_transport(bootstrap_servers: str | None, client_id: str) -> KafkaTransport:
    if not bootstrap_servers:
        raise SystemExit(
            "KAFKA_BOOTSTRAP_SERVERS is not set for this worker (the in-process bus exists only in "
            "the embedded mode: make run)"
        )
    return KafkaTransport(KafkaConfig(bootstrap_servers=bootstrap_servers, client_id=client_id))


async def run_until_signalled(worker: Worker) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await worker.run(stop)
    finally:
        await worker.engine.dispose()


async def main(name: str, settings: ServiceSettings, subscriptions: Sequence[Subscribe]) -> None:
    """The body of every service's `worker.py`: Kafka transport, relay, consumers, until SIGTERM."""
    configure_logging(f"{name}-worker", settings.log_level)
    worker = Worker(
        name=name,
        engine=make_engine(settings.database_url),
        transport=kafka_transport(settings.kafka_bootstrap_servers, name),
        subscriptions=subscriptions,
        relay_batch_size=settings.relay_batch_size,
        consumer_batch_size=settings.consumer_batch_size,
    )
    await run_until_signalled(worker)
