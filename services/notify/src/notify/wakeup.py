"""Waking the dispatcher: PostgreSQL LISTEN/NOTIFY when a message is written, polling otherwise."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)
# With NOTIFY, polling only finds what no insert announces: retries and reminders coming due.
NOTIFIED_POLL_S = 1.0


class Wakeup:
    def __init__(self, engine: AsyncEngine | None, channel: str, poll_interval_s: float) -> None:
        self._engine = engine
        self._channel = channel
        self._poll_s = poll_interval_s
        self._event = asyncio.Event()
        self._listener: asyncpg.Connection | None = None

    async def start(self) -> None:
        if self._engine is None or self._engine.dialect.name != "postgresql":
            return
        url = self._engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            conn = await asyncpg.connect(url)
            await conn.add_listener(self._channel, lambda *_: self._event.set())
            self._listener = conn
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("LISTEN %s failed, relying on polling: %r", self._channel, exc)

    def clear(self) -> None:
        self._event.clear()

    def set(self) -> None:
        self._event.set()

    async def wait(self, stop: asyncio.Event) -> None:
        """Until a NOTIFY, `stop`, or the poll interval (short again if the listener was lost)."""
        listening = self._listener is not None and not self._listener.is_closed()
        woken = asyncio.ensure_future(self._event.wait())
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait(
                (woken, stopped),
                timeout=NOTIFIED_POLL_S if listening else self._poll_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            woken.cancel()
            stopped.cancel()

    async def close(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._listener.close(), 5)
            self._listener = None
