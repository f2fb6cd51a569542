"""Datashare worker: `python -m datashare.worker` runs its outbox relay, consumers and the expiry sweep."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from datashare import clock
from datashare.certificates.service import expire_due
from datashare.handlers import SUBSCRIPTIONS
from datashare.settings import DatashareSettings
from servicekit.db import make_engine, make_sessionmaker
from servicekit.logs import configure_logging
from servicekit.worker import Worker, kafka_transport

log = logging.getLogger(__name__)


async def sweep_expired(worker: Worker, every_s: float, stop: asyncio.Event) -> None:
    """Certificates past their date become `expired` with an event, so subscribers hear of it."""
    sessions = make_sessionmaker(worker.engine)
    while not stop.is_set():
        try:
            async with sessions() as session:
                while (count := await expire_due(session, clock.today())) > 0:
                    log.info("expired %d certificate(s)", count)
        except Exception as exc:  # an outage: the next round tries again
            log.warning("expiry sweep failed: %r", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)


async def main() -> None:
    settings = DatashareSettings()
    configure_logging("datashare-worker", settings.log_level)
    worker = Worker(
        name="datashare",
        engine=make_engine(settings.database_url),
        transport=kafka_transport(settings.kafka_bootstrap_servers, "datashare"),
        subscriptions=SUBSCRIPTIONS,
        relay_batch_size=settings.relay_batch_size,
        consumer_batch_size=settings.consumer_batch_size,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.gather(worker.run(stop), sweep_expired(worker, settings.expiry_sweep_s, stop))
    finally:
        await worker.engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
