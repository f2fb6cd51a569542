"""The idempotent consumer: dispatch by `type`, inbox rows in the handlers' transaction, offsets after.

Per polled batch: decode the CloudEvents; in one database transaction insert their inbox rows in
bulk (events already processed are skipped) and run each new event's handler in order; commit.
Offsets are committed only after that commit. When anything in the batch fails, the transaction
is rolled back and the batch is handled record by record, each in its own transaction: a failing
handler is retried with back-off, then its record goes to `<topic>.dlq` with its error, and the
others are handled once. A record that cannot be decoded goes to the DLQ at once. Either way the
partition keeps flowing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pydantic
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.envelope import Event
from messaging.inbox import mark_all_processed, mark_processed
from messaging.records import MalformedRecord, Record, decode
from messaging.transport import Producer, Subscription, TransportError

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Event], Awaitable[None]]


class PermanentError(Exception):
    """A handler error that retrying cannot fix (bad data, unknown reference): straight to the DLQ."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    first_delay_s: float = 0.1
    max_delay_s: float = 2.0

    def delay(self, attempt: int) -> float:
        base: float = min(self.first_delay_s * 2.0 ** (attempt - 1), self.max_delay_s)
        return base * random.uniform(0.5, 1.0)  # jitter spreads retries of parallel workers


def is_outage(exc: BaseException) -> bool:
    """True when the database or the bus is unreachable, as opposed to a bad record."""
    if isinstance(exc, TransportError | OSError | sa.exc.OperationalError | sa.exc.InterfaceError):
        return True
    return isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated


class EventConsumer:
    def __init__(
        self,
        name: str,
        subscription: Subscription,
        sessions: async_sessionmaker[AsyncSession],
        handlers: Mapping[str, Handler],
        dlq_producer: Producer,
        *,
        retry: RetryPolicy | None = None,
        batch_size: int = 200,
        linger_s: float = 0.005,
        after_commit: Callable[[Event], None] | None = None,
    ) -> None:
        self.name = name
        self.subscription = subscription
        self._sessions = sessions
        self._handlers = dict(handlers)
        self._dlq = dlq_producer
        self._retry = retry or RetryPolicy()
        self._batch_size = batch_size
        # A poll that did not fill a batch is topped up once after this pause: each batch costs a
        # transaction and an offset commit however few records it carries.
        self._linger_s = linger_s
        # Called for each handled event after its database commit and before the offset commit
        # (fault tests and bench/bus use it).
        self._after_commit = after_commit
        self.handled = 0
        self.duplicates = 0
        self.dead_lettered = 0
        self.batches = 0  # polls handled in one transaction
        self.fallbacks = 0  # polls handled record by record because something in them failed
        self.alive_at: datetime | None = None

    async def _handle_once(self, event: Event) -> None:
        handler = self._handlers.get(event.type)
        async with self._sessions.begin() as session:
            if not await mark_processed(session, self.name, event):
                self.duplicates += 1
                return
            if handler is not None:
                await handler(session, event)
        self.handled += 1
        if self._after_commit is not None:
            self._after_commit(event)

    async def handle_batch(self, records: Sequence[Record]) -> None:
        """Handle polled records to the end: together in one transaction, else one by one."""
        if len(records) == 1:
            await self.handle(records[0])  # the per-record path is the same transaction, with retries
            return
        events: list[Event] = []
        malformed: list[tuple[Record, MalformedRecord]] = []
        for record in records:
            try:
                events.append(decode(record))
            except MalformedRecord as exc:
                malformed.append((record, exc))
        try:
            handled = await self._handle_together(events)
        except Exception as exc:
            if is_outage(exc):
                raise  # not the batch's fault: run() backs off and re-reads from the last commit
            # Rolled back whole: redo it record by record, so only the culprit is retried or
            # dead-lettered and every other record is handled exactly once.
            log.warning(
                "%s: batch of %d failed, handling it record by record: %r", self.name, len(records), exc
            )
            self.fallbacks += 1
            for record in records:
                await self.handle(record)
            return
        self.batches += 1
        self.handled += len(handled)
        self.duplicates += len(events) - len(handled)
        if self._after_commit is not None:
            for event in handled:
                self._after_commit(event)
        for record, error in malformed:
            await self._dead_letter(record, error, attempts=0)

    async def _handle_together(self, events: Sequence[Event]) -> list[Event]:
        """One transaction: the inbox rows in bulk, then the handler of each new event, in order."""
        if not events:
            return []
        handled: list[Event] = []
        async with self._sessions.begin() as session:
            fresh = await mark_all_processed(session, self.name, events)
            for event in events:
                if event.id not in fresh:
                    continue  # processed before, or a repeat within this batch
                fresh.discard(event.id)
                handler = self._handlers.get(event.type)
                if handler is not None:
                    await handler(session, event)
                    # What one handler wrote is in the database before the next one reads, as
                    # with a transaction per event.
                    await session.flush()
                handled.append(event)
        return handled

    async def handle(self, record: Record) -> None:
        """Handle one record to the end: done, duplicate, or dead-lettered."""
        try:
            event = decode(record)
        except MalformedRecord as exc:
            await self._dead_letter(record, exc, attempts=0)
            return
        for attempt in range(1, self._retry.attempts + 1):
            try:
                await self._handle_once(event)
                return
            except (PermanentError, pydantic.ValidationError) as exc:
                await self._dead_letter(record, exc, attempts=attempt)
                return
            except Exception as exc:
                if is_outage(exc):
                    # Not this record's fault: stop, back off, re-read from the last commit.
                    raise
                if attempt == self._retry.attempts:
                    await self._dead_letter(record, exc, attempts=attempt)
                    return
                log.warning("%s: event %s failed (attempt %d): %r", self.name, event.id, attempt, exc)
                await asyncio.sleep(self._retry.delay(attempt))

    async def _dead_letter(self, record: Record, error: Exception, *, attempts: int) -> None:
        log.error("%s: %s@%d -> DLQ: %r", self.name, record.topic, record.offset, error)
        headers = [
            *record.headers,
            ("dlq_consumer", self.name.encode()),
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
            ("dlq_error", f"{type(error).__name__}: {error}"[:2000].encode()),
            ("dlq_attempts", str(attempts).encode()),
            ("dlq_at", datetime.now(UTC).isoformat().encode()),
        ]
        dead = Record(topic=f"{record.topic}.dlq", key=record.key, value=record.value, headers=headers)
        await self._dlq.send_batch([dead])
        self.dead_lettered += 1

    async def run_batch(self, timeout_s: float = 1.0) -> int:
        records = await self.subscription.poll(self._batch_size, timeout_s)
        if not records:
            return 0
        if self._linger_s > 0 and len(records) < self._batch_size:
            await asyncio.sleep(self._linger_s)
            records += await self.subscription.poll(self._batch_size - len(records), 0)
        lock: asyncio.Lock = getattr(self.subscription, "batch_lock", None) or asyncio.Lock()
        async with lock:
            await self.handle_batch(records)
            offsets = {(r.topic, r.partition): r.offset + 1 for r in records}
            await self.subscription.commit(offsets)
        return len(records)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; outages of the bus or the database back off and resume."""
        backoff = 0.2
        started = False
        while not stop.is_set():
            self.alive_at = datetime.now(UTC)
            try:
                if not started:
                    await self.subscription.start()
                    started = True
                await self.run_batch()
                backoff = 0.2
            except Exception as exc:
                if not is_outage(exc):
                    raise
                # Nothing past the last successful commit was acknowledged: restart from there.
                log.warning("%s: consumer failed, restarting in %.1fs: %r", self.name, backoff, exc)
                if started:
                    await self.subscription.stop()
                    started = False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, 5.0)
        if started:
            await self.subscription.stop()
