"""The dispatcher: the worker loop that sends due messages, outside any consumer transaction.

Each round claims due messages (status created or temporary-failure, due now) and marks them
`sending` in one committed transaction (FOR UPDATE SKIP LOCKED on PostgreSQL, so several
workers share the work); then sends them concurrently within each channel's rate; then records
every outcome in one more transaction. Quiet hours push non-urgent SMS to the morning.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.envelope import Event
from notify.channels import SENDING, TECHNICAL_FAILURE, TEMPORARY_FAILURE, Channel, Outbound, Outcome
from notify.clock import Clock, utc_now
from notify.lifecycle import RetryPolicy, apply_outcome, write_events
from notify.models import Contact, Message
from notify.preferences import QUIET_END, QUIET_START, quiet_until
from notify.ratelimit import TokenBucket

log = logging.getLogger(__name__)

# A hand-off whose outcome was never recorded (the worker died mid-send) is given up after this;
# an SMS waits this long for its delivery report (GOV.UK Notify waits 72 hours too).
STUCK_AFTER = {"sms": timedelta(hours=72), "email": timedelta(minutes=10), "push": timedelta(minutes=10)}


@dataclass(frozen=True)
class Job:
    channel: str
    outbound: Outbound


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
        self._slots = asyncio.Semaphore(concurrency)
        # Like a producer's linger: fewer, fuller rounds cost far less than many small ones, and
        # a tenth of a second is nothing next to an SMS's own delivery time.
        self._poll_interval_s = poll_interval_s
        self.sent = 0

    async def _claim(self, now: datetime) -> list[Job]:
        due = (
            sa.select(Message)
            .where(
                Message.status.in_(["created", TEMPORARY_FAILURE]),
                Message.next_attempt_at <= now,
                Message.channel != "inbox",
            )
            .order_by(Message.next_attempt_at)
            .limit(self._batch_size)
        )
        jobs: list[Job] = []
        events: list[Event] = []
        async with self._sessions() as session, session.begin():
            if session.get_bind().dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            messages = list(await session.scalars(due))
            owners = {m.recipient_id for m in messages if m.channel == "sms" and not m.urgent}
            quiet = {
                c.owner_id: (c.quiet_start, c.quiet_end)
                for c in await session.scalars(sa.select(Contact).where(Contact.owner_id.in_(owners)))
            }
            for message in messages:
                if message.channel == "sms" and not message.urgent:
                    until = quiet_until(now, *quiet.get(message.recipient_id, (QUIET_START, QUIET_END)))
                    if until is not None:
                        message.next_attempt_at = until
                        continue
                if message.channel not in self._channels:
                    outcome = Outcome(
                        TECHNICAL_FAILURE, f"通道未配置 (channel {message.channel} not configured)"
                    )
                    apply_outcome(session, message, outcome, now, self._policy, events)
                    continue
                token = secrets.token_urlsafe(24) if message.channel == "sms" else None
                message.status, message.attempts, message.sent_at = SENDING, message.attempts + 1, now
                message.callback_token_hash = hashlib.sha256(token.encode()).hexdigest() if token else None
                outbound = Outbound(
                    message_id=message.id,
                    address=message.address or "",
                    title=message.title or "",
                    body=message.body,
                    html=message.html,
                    case_number=message.case_number,
                    callback_token=token,
                )
                jobs.append(Job(message.channel, outbound))
            await write_events(session, events)
        return jobs

    async def _send(self, job: Job) -> Outcome:
        bucket = self._buckets.get(job.channel)
        if bucket is not None:
            await bucket.acquire()
        async with self._slots:
            try:
                return await self._channels[job.channel].send(job.outbound)
            except Exception as exc:  # a channel bug must not lose the message: retry, then dead-letter
                log.exception("channel %s failed on message %s", job.channel, job.outbound.message_id)
                return Outcome(TECHNICAL_FAILURE, f"发送异常 (send failed): {exc!r}"[:500], retry=True)

    async def _record(self, jobs: list[Job], outcomes: list[Outcome]) -> None:
        now = self._clock()
        events: list[Event] = []
        async with self._sessions() as session, session.begin():
            ids = [job.outbound.message_id for job in jobs]
            messages = {m.id: m for m in await session.scalars(sa.select(Message).where(Message.id.in_(ids)))}
            for job, outcome in zip(jobs, outcomes, strict=True):
                message = messages[job.outbound.message_id]
                # A delivery report may have come back before this transaction: it wins.
                if message.status == SENDING:
                    apply_outcome(session, message, outcome, now, self._policy, events)
                    message.provider = self._channels[job.channel].provider
            await write_events(session, events)

    async def run_once(self) -> int:
        """One round: claim, send, record. Returns how many messages were handed to a channel."""
        jobs = await self._claim(self._clock())
        if jobs:
            outcomes = await asyncio.gather(*(self._send(job) for job in jobs))
            await self._record(jobs, list(outcomes))
            self.sent += len(jobs)
        return len(jobs)

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

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set; database outages back off and resume."""
        backoff = 0.2
        rounds = 0
        while not stop.is_set():
            try:
                if rounds % 1200 == 0:
                    await self.give_up_stuck()
                rounds += 1
                sent = await self.run_once()
                backoff = 0.2
            except (sa.exc.DBAPIError, OSError) as exc:
                log.warning("dispatcher failed, retrying in %.1fs: %r", backoff, exc)
                sent = 0
                backoff = min(backoff * 2, 5.0)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
            if sent < self._batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._poll_interval_s)

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
