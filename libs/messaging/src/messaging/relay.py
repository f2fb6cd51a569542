"""The outbox relay: publishes committed outbox rows in order and marks them published.

A round is one transaction: one statement marks the oldest unpublished rows and returns them, one
call sends them all and waits for every ack, and the commit keeps the mark (a failed send rolls it
back). PostgreSQL: rows are claimed with FOR UPDATE SKIP LOCKED, so several relays may run; the
relay LISTENs for the outbox trigger's NOTIFY when it runs dry (messaging.wakeup), with polling as
the fallback. SQLite: one relay per database, polling. A crash between send and commit publishes
rows twice; consumers dedupe by event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from messaging.records import Record
from messaging.tables import outbox
from messaging.transport import Producer, TransportError
from messaging.wakeup import NOTIFY_CHANNEL, WAKE_LOCK

log = logging.getLogger(__name__)

# How long a relay that ran dry waits for writers to finish before it waits for NOTIFY; past it
# (a long transaction wrote to the outbox, or another relay waits already) it polls at this pace.
_WAKE_LOCK_WAIT_S = 0.02
_ANY_UNPUBLISHED = "SELECT EXISTS (SELECT 1 FROM outbox WHERE published_at IS NULL)"


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        producer: Producer,
        *,
        batch_size: int = 500,
        poll_interval_s: float = 1.0,
        max_backoff_s: float = 5.0,
        linger_s: float = 0.005,
    ) -> None:
        self._engine = engine
        self._producer = producer
        self._batch_size = batch_size
        self._is_pg = engine.dialect.name == "postgresql"
        # Without NOTIFY a short poll keeps latency low; with it, polling is only the safety net.
        self._poll_interval_s = poll_interval_s if self._is_pg else min(poll_interval_s, 0.05)
        self._max_backoff_s = max_backoff_s
        # After a round that did not fill a batch, or a wake-up, wait this long before the next
        # claim so that concurrent writers' rows go out together: at 1,000 events/s a round cost
        # ~2 ms of CPU (relay, PostgreSQL, Kafka) whether it carried 3 rows or 10 (bench/bus.py).
        self._linger_s = linger_s
        self._wake = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        self._claim_stmt = self._claim()
        self.published = 0
        self.alive_at: datetime | None = None

    def _claim(self) -> sa.Update:
        """Mark the oldest unpublished rows published and return them, in one statement.

        The rows stay locked until the transaction ends, so SKIP LOCKED keeps other relays off
        them while they are sent; a failed send rolls the mark back.
        """
        oldest = (
            sa.select(outbox.c.seq)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.seq)
            .limit(self._batch_size)
        )
        columns: list[sa.ColumnElement[Any]] = [
            outbox.c.seq,
            outbox.c.topic,
            outbox.c.key,
            outbox.c.headers,
            outbox.c.payload,
        ]
        if self._is_pg:
            oldest = oldest.with_for_update(skip_locked=True)
            # Asynchronous commit for this transaction only: a mark lost in a server crash
            # publishes the rows again, which consumers dedupe, and the relay does not wait for
            # a WAL flush every round. (RETURNING sets it because a SET would be a round trip.)
            columns.append(sa.func.set_config("synchronous_commit", "off", True))
        return (
            outbox.update()
            .where(outbox.c.seq.in_(oldest.scalar_subquery()))
            .values(published_at=sa.bindparam("now", type_=outbox.c.published_at.type))
            .returning(*columns)
        )

    async def publish_once(self) -> int:
        """Publish one batch; returns how many rows went out."""
        seqs: list[int] = []
        try:
            async with self._engine.begin() as conn:
                rows = sorted((await conn.execute(self._claim_stmt, {"now": datetime.now(UTC)})).all())
                if not rows:
                    return 0
                seqs = [row.seq for row in rows]
                records = [
                    Record(
                        topic=row.topic,
                        key=row.key.encode(),
                        value=row.payload,
                        headers=tuple((k, v.encode()) for k, v in row.headers),
                    )
                    for row in rows
                ]
                # Leaving the block by this error rolls the mark back: the rows go out next round.
                await self._producer.send_batch(records)
        except TransportError as exc:
            if seqs:
                await self._count_attempt(seqs, exc)
            raise
        self.published += len(seqs)
        return len(seqs)

    async def _count_attempt(self, seqs: list[int], error: Exception) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                outbox.update()
                .where(outbox.c.seq.in_(seqs))
                .values(attempts=outbox.c.attempts + 1, last_error=str(error)[:500])
            )

    async def _listen(self) -> None:
        if not self._is_pg:
            return
        url = self._engine.url.set(drivername="postgresql")
        try:
            conn = await asyncpg.connect(
                url.render_as_string(hide_password=False),
                server_settings={"lock_timeout": f"{int(_WAKE_LOCK_WAIT_S * 1000)}ms"},
            )
            await conn.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
            self._listener = conn
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("LISTEN %s failed, relying on polling: %r", NOTIFY_CHANNEL, exc)

    async def _unlisten(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._listener.close(), 5)
            self._listener = None

    async def _ask_listener(self, query: str, *args: object) -> object | None:
        """`query`'s value on the LISTEN connection; None if it waited too long for a lock or failed."""
        if self._listener is None:
            return None
        try:
            value: object = await self._listener.fetchval(query, *args)
            return value
        except asyncpg.LockNotAvailableError:
            return None  # writers still in flight after _WAKE_LOCK_WAIT_S
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # A lost connection also drops its locks; the next round connects again.
            log.warning("outbox relay lost its LISTEN connection: %r", exc)
            await self._unlisten()
            return None

    async def _idle(self, stopped: asyncio.Future[Any]) -> None:
        """Wait for more rows after a round that did not fill a batch: a NOTIFY, else a poll."""
        if self._is_pg and (self._listener is None or self._listener.is_closed()):
            await self._unlisten()
            await self._listen()
        # pg_advisory_lock() returns void: select a constant to tell success from failure (None).
        armed = await self._ask_listener("SELECT 1 FROM pg_advisory_lock($1)", WAKE_LOCK) is not None
        try:
            if armed:
                # Every writer that will not NOTIFY has finished, and every writer from now on
                # NOTIFYs: one more look (a new snapshot) sees what the first ones wrote.
                self._wake.clear()
                if await self._ask_listener(_ANY_UNPUBLISHED) is not False:
                    return
                timeout = self._poll_interval_s
            elif self._listener is not None:
                timeout = min(self._poll_interval_s, _WAKE_LOCK_WAIT_S)
            else:
                timeout = self._poll_interval_s
            woken = asyncio.ensure_future(self._wake.wait())
            await asyncio.wait([woken, stopped], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            woken.cancel()
        finally:
            if armed:
                await self._ask_listener("SELECT pg_advisory_unlock($1)", WAKE_LOCK)

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
                    if sent < self._batch_size:
                        if sent == 0:
                            await self._idle(stopped)
                        await _sleep_or_stop(stop, self._linger_s)
                    backoff = 0.1
                except (TransportError, sa.exc.DBAPIError, OSError) as exc:
                    log.warning("outbox relay failed, retrying in %.1fs: %r", backoff, exc)
                    await _sleep_or_stop(stop, backoff)
                    backoff = min(backoff * 2, self._max_backoff_s)
        finally:
            stopped.cancel()
            await self._unlisten()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
