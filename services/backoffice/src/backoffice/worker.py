"""Backoffice worker: `python -m backoffice.worker` runs its outbox relay, its consumers and the 督查 sweep."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from backoffice.deadlines import china_date, utc_now
from backoffice.handlers import SUBSCRIPTIONS
from backoffice.settings import BackofficeSettings
from backoffice.supervision import sweep
from messaging.consumer import is_outage
from servicekit.db import make_engine, make_sessionmaker
from servicekit.logs import configure_logging
from servicekit.worker import Worker, kafka_transport

log = logging.getLogger(__name__)
# The embedded mode (`make run`) sweeps more often than production's default: a demo lasts minutes.
EMBEDDED_SWEEP_INTERVAL_S = 60.0


async def sweep_periodically(
    engine: AsyncEngine, warn_working_days: int, interval_s: float, stop: asyncio.Event
) -> None:
    """Warnings and escalations are raised once each, so a sweep after a restart repeats nothing."""
    sessions = make_sessionmaker(engine)
    while not stop.is_set():
        now = utc_now()
        try:
            async with sessions() as session:
                result = await sweep(session, china_date(now), warn_working_days, now)
            if any(result.model_dump(exclude={"today"}).values()):
                log.info("supervision sweep: %s", result.model_dump_json())
        except Exception as exc:
            # The consumers and the relay keep running: a failed sweep is retried next interval.
            if is_outage(exc):
                log.warning("supervision sweep skipped, database unreachable: %r", exc)
            else:
                log.exception("supervision sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)


def embedded_tasks(app: FastAPI, stop: asyncio.Event) -> list[Coroutine[Any, Any, None]]:
    """What the embedded platform runs beside this service's consumers: the 督查 sweep."""
    warn: int = app.state.warn_working_days
    return [sweep_periodically(app.state.engine, warn, EMBEDDED_SWEEP_INTERVAL_S, stop)]


async def main(settings: BackofficeSettings) -> None:
    configure_logging("backoffice-worker", settings.log_level)
    engine = make_engine(settings.database_url)
    worker = Worker(
        name="backoffice",
        engine=engine,
        transport=kafka_transport(settings.kafka_bootstrap_servers, "backoffice"),
        subscriptions=SUBSCRIPTIONS,
        relay_batch_size=settings.relay_batch_size,
        consumer_batch_size=settings.consumer_batch_size,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.gather(
            worker.run(stop),
            sweep_periodically(engine, settings.warn_working_days, settings.sweep_interval_s, stop),
        )
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(BackofficeSettings()))
