"""Channels: each hands a rendered message to a real provider and says what happened (an Outcome)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

SENDING = "sending"
DELIVERED = "delivered"
TEMPORARY_FAILURE = "temporary-failure"
PERMANENT_FAILURE = "permanent-failure"
TECHNICAL_FAILURE = "technical-failure"
# A reminder withdrawn before it was due (the appointment was cancelled).
CANCELLED = "cancelled"
FAILED = frozenset({TEMPORARY_FAILURE, PERMANENT_FAILURE, TECHNICAL_FAILURE})


@dataclass(frozen=True)
class Outbound:
    """What a channel needs to send one message (no database objects leave the dispatcher)."""

    message_id: str
    address: str
    title: str
    body: str
    html: str | None = None
    case_number: str | None = None
    # The per-attempt secret a provider calls back with (Kannel's dlr-url).
    callback_token: str | None = None


@dataclass(frozen=True)
class Outcome:
    """The status a send attempt leads to; `retry` marks a failure another attempt may cure.

    A retryable failure's `status` is what the message ends in once the retries run out:
    technical-failure when the hand-off itself failed, temporary-failure when the carrier said so.
    """

    status: str
    reason: str | None = None
    reference: str | None = None
    retry: bool = False


def retry_later(reason: str, status: str = TECHNICAL_FAILURE) -> Outcome:
    return Outcome(status, reason, retry=True)


class Channel(Protocol):
    provider: str
    # Sends the dispatcher runs at once on this channel (an SMTP channel: its pooled connections).
    concurrency: int

    async def send(self, message: Outbound) -> Outcome: ...

    async def close(self) -> None: ...
