"""The delivery lifecycle: created → sending → delivered / *-failure, retries, dead letters, alerts.

Every move of a message to a final state stages a `notify.message.status_changed` event; the
caller writes the staged events into the outbox (one statement) before its transaction commits.
A dead letter also raises an alert for operators.
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import Event, new_event
from contracts.notify import AlertRaised, MessageDeadLettered, MessageStatusChanged
from messaging.outbox import outbox_row
from messaging.tables import outbox
from notify.channels import SENDING, TEMPORARY_FAILURE, Outcome
from notify.deliveries import Delivery
from notify.models import Alert, DeadLetter, Message

log = logging.getLogger(__name__)
SOURCE = "/notify"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off between attempts; `attempts` counts the first one too."""

    attempts: int = 5
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)

    def delay(self, attempt: int) -> timedelta:
        base: timedelta = min(self.first_delay * 2 ** (attempt - 1), self.max_delay)
        return base * random.uniform(0.8, 1.0)  # jitter spreads a burst of retries


# What the lifecycle reads and moves: a `Message` row, or the dispatcher's lighter `Delivery`.
MessageState = Message | Delivery


async def write_events(session: AsyncSession, events: list[Event]) -> None:
    """Stage `events` in the outbox with one multi-row insert (a round trip per event adds up)."""
    if events:
        await session.execute(outbox.insert(), [outbox_row(e) for e in events])
        events.clear()


def status_event(message: MessageState, now: datetime) -> Event:
    data = MessageStatusChanged(
        message_id=message.id,
        channel=message.channel,
        status=message.status,
        provider_reference=message.provider_reference,
        case_number=message.case_number,
        changed_at=now,
        template=message.template,
        template_version=message.template_version,
        reason=message.reason,
        attempts=message.attempts,
    )
    return new_event(type="notify.message.status_changed", source=SOURCE, subject=message.id, data=data)


def raise_alert(
    session: AsyncSession, kind: str, summary: str, message_id: str | None, now: datetime, events: list[Event]
) -> None:
    alert = Alert(id=uuid.uuid4().hex, kind=kind, summary=summary, message_id=message_id, created_at=now)
    session.add(alert)
    log.error("notify alert %s: %s (message %s)", kind, summary, message_id)
    data = AlertRaised(alert_id=alert.id, kind=kind, summary=summary, message_id=message_id, raised_at=now)
    events.append(new_event(type="notify.alert.raised", source=SOURCE, subject=alert.id, data=data))


def dead_letter(session: AsyncSession, message: MessageState, now: datetime, events: list[Event]) -> None:
    entry = DeadLetter(
        id=uuid.uuid4().hex,
        message_id=message.id,
        channel=message.channel,
        reason=message.reason or "",
        attempts=message.attempts,
        created_at=now,
    )
    session.add(entry)
    data = MessageDeadLettered(
        message_id=message.id,
        dead_letter_id=entry.id,
        channel=message.channel,
        status=message.status,
        reason=entry.reason,
        attempts=message.attempts,
        case_number=message.case_number,
        dead_lettered_at=now,
    )
    events.append(
        new_event(type="notify.message.dead_lettered", source=SOURCE, subject=message.id, data=data)
    )
    summary = f"{message.channel}消息{message.attempts}次发送失败，已转入死信队列：{message.reason}"
    raise_alert(session, "dead_letter", summary, message.id, now, events)


def transition(message: MessageState, outcome: Outcome, now: datetime, policy: RetryPolicy) -> bool:
    """Move `message`'s fields to where `outcome` says: waiting for a report, retrying, or final.

    True when it is final: then `settle` must follow once the move is written.
    """
    message.reason = outcome.reason
    if outcome.reference is not None:
        message.provider_reference = outcome.reference
    if outcome.status == SENDING:
        message.status = SENDING
        return False
    if outcome.retry and message.attempts < policy.attempts:
        message.status = TEMPORARY_FAILURE
        message.next_attempt_at = now + policy.delay(message.attempts)
        return False
    message.status = outcome.status
    message.next_attempt_at = None
    message.completed_at = now
    return True


def settle(
    session: AsyncSession, message: MessageState, retried: bool, now: datetime, events: list[Event]
) -> None:
    """A final status is published; one reached after the last retry is also dead-lettered."""
    events.append(status_event(message, now))
    if retried:
        dead_letter(session, message, now, events)


def apply_outcome(
    session: AsyncSession,
    message: MessageState,
    outcome: Outcome,
    now: datetime,
    policy: RetryPolicy,
    events: list[Event],
) -> None:
    """`transition`, then `settle` a final status: for a message this transaction holds locked."""
    if transition(message, outcome, now, policy):
        settle(session, message, outcome.retry, now, events)
