"""Intake worker: `python -m intake.worker` runs its outbox relay, its consumers and the 容缺 sweep."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake.applications.context import Context, build_context
from intake.applications.rongque import sweep
from intake.hall.clock import hall_now
from intake.handlers import SUBSCRIPTIONS
from intake.settings import IntakeSettings
from messaging.consumer import is_outage
from servicekit.db import make_engine, make_sessionmaker
from servicekit.logs import configure_logging
from servicekit.worker import Worker, kafka_transport

log = logging.getLogger(__name__)


async def sweep_periodically(
    sessions: async_sessionmaker[AsyncSession], ctx: Context, interval_s: float, stop: asyncio.Event
) -> None:
    """容缺 warnings and terminations; each happens once, so a restart or a second sweeper repeats nothing."""
    while not stop.is_set():
        try:
            async with sessions() as session:
                result = await sweep(session, ctx, hall_now())
            if result.warned or result.terminated:
                log.info("容缺 sweep: %s", result.model_dump_json())
        except Exception as exc:
            # The consumers and the relay keep running: a failed sweep is retried next interval.
            if is_outage(exc):
                log.warning("容缺 sweep skipped, database unreachable: %r", exc)
            else:
                log.exception("容缺 sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)


def embedded_tasks(app: FastAPI, stop: asyncio.Event) -> list[Coroutine[Any, Any, None]]:
    """What runs beside intake's consumers in the embedded mode (`make run`)."""
    ctx: Context = app.state.applications
    return [sweep_periodically(app.state.sessions, ctx, ctx.options.sweep_interval_s, stop)]


def use_datashare(intake: Any, datashare: Any) -> None:
    """Embedded mode: the 材料预审 reaches the datashare app in this process (both are ASGI upstreams)."""
    app: FastAPI = intake.app
    app.state.applications = build_context(
        app.state.applications.options, app.state.internal_key, httpx.ASGITransport(app=datashare.app)
    )


async def main(settings: IntakeSettings) -> None:
    configure_logging("intake-worker", settings.log_level)
    engine = make_engine(settings.database_url)
    worker = Worker(
        name="intake",
        engine=engine,
        transport=kafka_transport(settings.kafka_bootstrap_servers, "intake"),
        subscriptions=SUBSCRIPTIONS,
        relay_batch_size=settings.relay_batch_size,
        consumer_batch_size=settings.consumer_batch_size,
    )
    ctx = build_context(settings, settings.internal_token_key.get_secret_value().encode())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.gather(
            worker.run(stop),
            sweep_periodically(make_sessionmaker(engine), ctx, settings.sweep_interval_s, stop),
        )
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(IntakeSettings()))
