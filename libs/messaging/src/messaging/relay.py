"""The outbox relay: publishes committed outbox rows in order and marks them published.

PostgreSQL: batches are claimed with FOR UPDATE SKIP LOCKED, so several relays may run; a trigger
NOTIFYs `outbox` on insert and the relay LISTENs, with polling as the fallback. SQLite: one relay
per database, polling. A crash between send and mark publishes a row twice; consumers dedupe by
event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from messaging.records import Record
from messaging.tables import outbox
from messaging.transport import Producer, TransportError

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "outbox"


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        producer: Producer,
        *,
        batch_size: int = 500,
        poll_interval_s: float = 1.0,
        max_backoff_s: float = 5.0,
    ) -> None:
        self._engine = engine
        self._producer = producer
        self._batch_size = batch_size
        self._is_pg = engine.dialect.name == "postgresql"
        # Without NOTIFY a short poll keeps latency low; with it, polling is only the safety net.
        self._poll_interval_s = poll_interval_s if self._is_pg else min(poll_interval_s, 0.05)
        self._max_backoff_s = max_backoff_s
        self._wake = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        self.published = 0
        self.alive_at: datetime | None = None

    async def publish_once(self) -> int:
        """Publish one batch; returns how many rows went out."""
        query = (
            sa.select(outbox.c.seq, outbox.c.topic, outbox.c.key, outbox.c.headers, outbox.c.payload)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.seq)
            .limit(self._batch_size)
        )
        if self._is_pg:
            query = query.with_for_update(skip_locked=True)
        async with self._engine.begin() as conn:
            rows = (await conn.execute(query)).all()
            if not rows:
                return 0
            records = [
                Record(
                    topic=row.topic,
                    key=row.key.encode(),
                    value=row.payload,
                    headers=tuple((k, v.encode()) for k, v in row.headers),
                )
                for row in rows
            ]
            try:
                await self._producer.send_batch(records)
            except TransportError as exc:
                await conn.execute(
                    outbox.update()
                    .where(outbox.c.seq.in_([r.seq for r in rows]))
                    .values(attempts=outbox.c.attempts + 1, last_error=str(exc)[:500])
                )
                raise
            await conn.execute(
                outbox.update()
                .where(outbox.c.seq.in_([r.seq for r in rows]))
                .values(published_at=datetime.now(UTC))
            )
        self.published += len(rows)
        return len(rows)

    async def _listen(self) -> None:
        if not self._is_pg:
            return
        url = self._engine.url.set(drivername="postgresql")
        try:
            conn = await asyncpg.connect(url.render_as_string(hide_password=False))
            await conn.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
            self._listener = conn
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("LISTEN %s failed, relying on polling: %r", NOTIFY_CHANNEL, exc)

    async def _unlisten(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._listener.close(), 5)
            self._listener = None

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set; broker or database outages back off and retry."""
        backoff = 0.1
        await self._listen()
        stopped = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                self.alive_at = datetime.now(UTC)
                # Cleared before reading, so a NOTIFY that lands mid-batch wakes the next round.
                self._wake.clear()
                try:
                    sent = await self.publish_once()
                    backoff = 0.1
                except (TransportError, sa.exc.DBAPIError, OSError) as exc:
                    log.warning("outbox relay failed, retrying in %.1fs: %r", backoff, exc)
                    await _sleep_or_stop(stop, backoff)
                    backoff = min(backoff * 2, self._max_backoff_s)
                    if self._is_pg and (self._listener is None or self._listener.is_closed()):
                        await self._unlisten()
                        await self._listen()
                    continue
                if sent < self._batch_size:
                    woken = asyncio.ensure_future(self._wake.wait())
                    await asyncio.wait(
                        [woken, stopped],
                        timeout=self._poll_interval_s,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    woken.cancel()
        finally:
            stopped.cancel()
            await self._unlisten()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
