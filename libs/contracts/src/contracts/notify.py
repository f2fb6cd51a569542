"""Events written by the notify service on `notify.messages`."""

from __future__ import annotations

from datetime import datetime

from contracts.envelope import EventData


class MessageStatusChanged(EventData):
    """notify.message.status_changed: a message moved in its delivery lifecycle."""

    message_id: str
    channel: str
    status: str
    provider_reference: str | None = None
    case_number: str | None = None
    changed_at: datetime
