"""The dispatcher: the worker loop that sends due messages, outside any consumer transaction.

A pipeline of three stages that overlap: the claimer marks a batch of due messages `sending` in
one committed transaction (FOR UPDATE SKIP LOCKED on PostgreSQL, so several workers share the
work) and queues them per channel; each channel's senders (one per pooled connection for SMTP)
hand them over within the channel's rate; the recorder writes the outcomes that are ready, many
per transaction. A new message wakes the claimer through PostgreSQL's LISTEN/NOTIFY; polling is
the fallback (and SQLite's way). Quiet hours push non-urgent SMS to the morning. At most
`2 x batch_size` messages are in flight, so a crash leaves few `sending` rows for `give_up_stuck`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import time
from collections.abc import Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.envelope import Event
from notify import deliveries
from notify.channels import (
    DELIVERED,
    SENDING,
    TECHNICAL_FAILURE,
    TEMPORARY_FAILURE,
    Channel,
    Outbound,
    Outcome,
)
from notify.clock import Clock, utc_now
from notify.deliveries import Delivery
from notify.lifecycle import RetryPolicy, apply_outcome, settle, transition, write_events
from notify.models import Message
from notify.preferences import QUIET_END, QUIET_START, quiet_until
from notify.ratelimit import TokenBucket
from notify.wakeup import Wakeup

log = logging.getLogger(__name__)

# A hand-off whose outcome was never recorded (the worker died mid-send) is given up after this;
# an SMS waits this long for its delivery report (GOV.UK Notify waits 72 hours too).
STUCK_AFTER = {"sms": timedelta(hours=72), "email": timedelta(minutes=10), "push": timedelta(minutes=10)}
STUCK_CHECK_S = 60.0
RECORD_LINGER_S = 0.05
# A message handed to its channel, what came of it, and when (the provider's answer).
Done = tuple[Delivery, Outcome, datetime]


class Dispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channels: Mapping[str, Channel],
        *,
        clock: Clock = utc_now,
        policy: RetryPolicy | None = None,
        rates: Mapping[str, float] | None = None,
        batch_size: int = 200,
        concurrency: int = 32,
        poll_interval_s: float = 0.1,
    ) -> None:
        self._sessions = sessions
        self._channels = dict(channels)
        self._clock = clock
        self._policy = policy or RetryPolicy()
        self._buckets = {name: TokenBucket(rate) for name, rate in (rates or {}).items()}
        self._batch_size = batch_size
        self._concurrency = concurrency
        self._wakeup = Wakeup(sessions.kw.get("bind"), "notify_message", poll_interval_s)
        self._in_flight = 0
        self._room = asyncio.Event()
        self._stopping_since: float | None = None
        self.sent = 0

    @property
    def channels(self) -> list[str]:
        return sorted(self._channels)

    async def _claim(self, now: datetime, limit: int) -> list[Delivery]:
        """Mark up to `limit` due messages `sending` and return them; quiet SMS wait for morning."""
        claimed: list[Delivery] = []
        deferred: list[tuple[str, datetime]] = []
        settled: list[deliveries.Move] = []
        tokens: dict[str, str] = {}
        events: list[Event] = []
        async with self._sessions() as session, session.begin():
            for d in await deliveries.due(session, now, limit):
                if d.channel == "sms" and not d.urgent:
                    until = quiet_until(now, *(d.quiet or (QUIET_START, QUIET_END)))
                    if until is not None:
                        deferred.append((d.id, until))
                        continue
                if d.channel == "inbox":  # our own store: a reminder is delivered once it is due
                    apply_outcome(session, d, Outcome(DELIVERED), now, self._policy, events)
                    settled.append(deliveries.Move(d, d.was, "inbox"))
                    continue
                if d.channel not in self._channels:
                    outcome = Outcome(TECHNICAL_FAILURE, f"通道未配置 (channel {d.channel} not configured)")
                    apply_outcome(session, d, outcome, now, self._policy, events)
                    settled.append(deliveries.Move(d, d.was))
                    continue
                if d.channel == "sms":
                    d.callback_token = secrets.token_urlsafe(24)
                    tokens[d.id] = hashlib.sha256(d.callback_token.encode()).hexdigest()
                claimed.append(d)
            await deliveries.defer(session, deferred)
            await deliveries.mark_sending(session, claimed, tokens, now)
            await deliveries.move(session, settled)
            await write_events(session, events)
        for d in claimed:
            d.status, d.attempts = SENDING, d.attempts + 1
        return claimed

    async def _send(self, d: Delivery) -> Outcome:
        bucket = self._buckets.get(d.channel)
        if bucket is not None:
            await bucket.acquire()
        outbound = Outbound(
            message_id=d.id,
            address=d.address or "",
            title=d.title or "",
            body=d.body,
            html=d.html,
            case_number=d.case_number,
            callback_token=d.callback_token,
        )
        try:
            return await self._channels[d.channel].send(outbound)
        except Exception as exc:  # a channel bug must not lose the message: retry, then dead-letter
            log.exception("channel %s failed on message %s", d.channel, d.id)
            return Outcome(TECHNICAL_FAILURE, f"发送异常 (send failed): {exc!r}"[:500], retry=True)

    async def _record(self, done: list[Done]) -> None:
        """Write the outcomes in one transaction; a delivery report that came first wins."""
        events: list[Event] = []
        moves: list[deliveries.Move] = []
        finals: list[tuple[Delivery, bool, datetime]] = []
        for d, outcome, at in done:
            if transition(d, outcome, at, self._policy):
                finals.append((d, outcome.retry, at))
            moves.append(deliveries.Move(d, SENDING, self._channels[d.channel].provider))
        async with self._sessions() as session, session.begin():
            moved = await deliveries.move(session, moves)
            for d, retried, at in finals:
                if d.id in moved:
                    settle(session, d, retried, at, events)
            await write_events(session, events)
        self.sent += len(done)

    async def run_once(self) -> int:
        """One round, stage after stage: claim, send, record. Returns how many were handed over."""
        claimed = await self._claim(self._clock(), self._batch_size)
        if claimed:
            slots = asyncio.Semaphore(self._concurrency)

            async def send(d: Delivery) -> Done:
                async with slots:
                    return d, await self._send(d), self._clock()

            done = await asyncio.gather(*(send(d) for d in claimed))
            await self._record(list(done))
        return len(claimed)

    async def give_up_stuck(self) -> int:
        """Finish hand-offs that never got an outcome (worker crash) or a report (SMS, 72 h)."""
        now = self._clock()
        count = 0
        events: list[Event] = []
        async with self._sessions() as session, session.begin():
            for channel, after in STUCK_AFTER.items():
                stuck = await session.scalars(
                    sa.select(Message).where(
                        Message.status == SENDING, Message.channel == channel, Message.sent_at < now - after
                    )
                )
                for message in stuck:
                    status = TEMPORARY_FAILURE if channel == "sms" else TECHNICAL_FAILURE
                    reason = (
                        "未收到状态报告 (no delivery report)"
                        if channel == "sms"
                        else "发送结果未知 (hand-off lost)"
                    )
                    apply_outcome(session, message, Outcome(status, reason), now, self._policy, events)
                    count += 1
            await write_events(session, events)
        return count

    async def _sender(
        self, queue: asyncio.Queue[Delivery | None], results: asyncio.Queue[Done | None]
    ) -> None:
        while (d := await queue.get()) is not None:
            results.put_nowait((d, await self._send(d), self._clock()))

    async def _recorder(self, results: asyncio.Queue[Done | None]) -> None:
        """Records outcomes many per transaction: each commit waits for a WAL flush, and the
        hand-off time is already stamped, so lingering a little costs nothing but memory."""
        finished = False
        while not finished:
            first = await results.get()
            batch = [first] if first is not None else []
            finished = first is None
            if not finished and results.qsize() < self._batch_size:
                await asyncio.sleep(RECORD_LINGER_S)
            while not results.empty():
                more = results.get_nowait()
                if more is None:
                    finished = True
                else:
                    batch.append(more)
            await self._record_until_written(batch)

    async def _record_until_written(self, batch: list[Done]) -> None:
        """Outcomes are kept and written once the database answers again; when stopping, for 30 s at
        most (the messages then stay `sending` and `give_up_stuck` settles them)."""
        backoff = 0.2
        while batch:
            try:
                await self._record(batch)
            except (sa.exc.DBAPIError, OSError) as exc:
                if self._stopping_since is not None and time.monotonic() - self._stopping_since > 30:
                    log.error("%d outcomes not recorded: %r", len(batch), exc)
                    return
                log.warning("recording %d outcomes failed, retrying in %.1fs: %r", len(batch), backoff, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            self._in_flight -= len(batch)
            self._room.set()
            return

    async def _claim_into(
        self, queues: Mapping[str, asyncio.Queue[Delivery | None]], stop: asyncio.Event
    ) -> bool:
        """Claim what there is room for; True when that took every due message (time to wait)."""
        room = 2 * self._batch_size - self._in_flight
        if room < self._batch_size // 2:
            # The senders are behind: claiming more would only age the claims.
            self._room.clear()
            await _first(self._room, stop)
            return False
        limit = min(room, self._batch_size)
        claimed = await self._claim(self._clock(), limit)
        self._in_flight += len(claimed)
        for d in claimed:
            queues[d.channel].put_nowait(d)
        return len(claimed) < limit

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set; database outages back off and resume; queued work is put back."""
        queues: dict[str, asyncio.Queue[Delivery | None]] = {name: asyncio.Queue() for name in self._channels}
        results: asyncio.Queue[Done | None] = asyncio.Queue()
        senders = {
            name: [
                asyncio.create_task(self._sender(queues[name], results)) for _ in range(channel.concurrency)
            ]
            for name, channel in self._channels.items()
        }
        recorder = asyncio.create_task(self._recorder(results))
        await self._wakeup.start()
        backoff, checked = 0.2, 0.0
        try:
            while not stop.is_set():
                try:
                    if time.monotonic() - checked > STUCK_CHECK_S:
                        await self.give_up_stuck()
                        checked = time.monotonic()
                    self._wakeup.clear()  # a NOTIFY during the claim wakes the next wait at once
                    caught_up = await self._claim_into(queues, stop)
                    backoff = 0.2
                except (sa.exc.DBAPIError, OSError) as exc:
                    log.warning("dispatcher failed, retrying in %.1fs: %r", backoff, exc)
                    caught_up = False
                    backoff = min(backoff * 2, 5.0)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), backoff)
                if caught_up:
                    await self._wakeup.wait(stop)
        finally:
            await self._drain(queues, senders, results, recorder)
            await self._wakeup.close()

    async def _drain(
        self,
        queues: Mapping[str, asyncio.Queue[Delivery | None]],
        senders: Mapping[str, list[asyncio.Task[None]]],
        results: asyncio.Queue[Done | None],
        recorder: asyncio.Task[None],
    ) -> None:
        """Stop: messages not yet handed over go back to their due state, the rest are recorded."""
        self._stopping_since = time.monotonic()
        unsent: list[deliveries.Move] = []
        now = self._clock()
        for name, queue in queues.items():
            while not queue.empty():
                d = queue.get_nowait()
                if d is not None:
                    d.status, d.attempts, d.next_attempt_at = d.was, d.attempts - 1, now
                    unsent.append(deliveries.Move(d, SENDING))
            for _ in senders[name]:
                queue.put_nowait(None)
        await asyncio.gather(*(t for tasks in senders.values() for t in tasks), return_exceptions=True)
        results.put_nowait(None)
        await recorder
        if unsent:
            with contextlib.suppress(sa.exc.DBAPIError, OSError):  # else `give_up_stuck` retries them
                async with self._sessions() as session, session.begin():
                    await deliveries.move(session, unsent)

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()


async def _first(event: asyncio.Event, stop: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(stop.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
