"""The CloudEvents 1.0 envelope every event travels in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SPEC_VERSION = "1.0"


class Event(BaseModel):
    """A CloudEvents-shaped event; `id` is the idempotency key, `subject` the aggregate id and Kafka key."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=64)
    source: str = Field(min_length=1, max_length=200, description="Producing service, e.g. /catalog")
    type: str = Field(pattern=r"^[a-z]+\.[a-z_]+\.[a-z_]+(\.v\d+)?$")
    subject: str = Field(min_length=1, max_length=200)
    time: datetime
    specversion: str = SPEC_VERSION
    datacontenttype: str = "application/json"
    data: dict[str, Any]
    # CloudEvents extension attribute: the HTTP request that caused the event, for tracing.
    requestid: str | None = Field(default=None, max_length=100)


class EventData(BaseModel):
    """Base class of event payloads: consumers ignore fields they do not know (forward compatible)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def new_event(
    *,
    type: str,
    source: str,
    subject: str,
    data: EventData,
    requestid: str | None = None,
) -> Event:
    """Build an envelope around `data` with a fresh id and the current time."""
    return Event(
        id=str(uuid.uuid4()),
        source=source,
        type=type,
        subject=subject,
        time=datetime.now(UTC),
        data=data.model_dump(mode="json"),
        requestid=requestid,
    )
