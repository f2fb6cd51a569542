"""Events written by the notify service on `notify.messages`."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from contracts.envelope import EventData


class MessageStatusChanged(EventData):
    """notify.message.status_changed: a message moved in its delivery lifecycle."""

    message_id: str
    channel: str
    status: str
    provider_reference: str | None = None
    case_number: str | None = None
    changed_at: datetime
    template: str | None = Field(default=None, description="Template name; the version is template_version")
    template_version: int | None = None
    reason: str | None = Field(default=None, description="Why a message failed, in Chinese and English")
    attempts: int | None = None


class MessageDeadLettered(EventData):
    """notify.message.dead_lettered: retries ran out; the message waits for an operator to re-drive it."""

    message_id: str
    dead_letter_id: str
    channel: str
    status: str
    reason: str
    attempts: int
    case_number: str | None = None
    dead_lettered_at: datetime


class AlertRaised(EventData):
    """notify.alert.raised: something operators must look at (dead letters, broken templates)."""

    alert_id: str
    kind: str = Field(description="dead_letter or template_error")
    summary: str
    message_id: str | None = None
    raised_at: datetime
