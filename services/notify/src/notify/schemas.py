"""Notify API schemas."""

from __future__ import annotations

from datetime import datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["sms", "email", "push", "inbox"]


class MessagePublic(BaseModel):
    """A message as its recipient (or an operator) sees it; the address is masked."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    template: str
    template_version: int
    channel: str
    case_number: str | None
    title: str | None = None
    body: str
    status: str
    reason: str | None = None
    created_at: datetime
    completed_at: datetime | None = None
    read_at: datetime | None = None


class MessageDetail(MessagePublic):
    """The full delivery record, for operators."""

    event_id: str
    event_type: str | None
    recipient: str = Field(description="Masked recipient id")
    address: str | None = Field(description="Masked phone, e-mail or push id")
    segments: int | None
    urgent: bool
    provider: str | None
    provider_reference: str | None
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None


class InboxPage(BaseModel):
    total: int
    unread: int
    items: list[MessagePublic]


class ContactUpdate(BaseModel):
    """What the app registers for its user: how to reach them and what they want to receive."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, max_length=20, description="Mainland mobile number")
    email: str | None = Field(default=None, max_length=254)
    push_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="The app's device token"
    )
    channels: list[Channel] = Field(default=["sms", "email", "push", "inbox"], description="Channels wanted")
    quiet_start: time = Field(default=time(22, 0), description="No SMS from (local time) unless urgent")
    quiet_end: time = Field(default=time(8, 0), description="… until")


class ContactPublic(BaseModel):
    owner_id: str = Field(description="Masked")
    name: str | None
    phone: str | None = Field(description="Masked")
    email: str | None = Field(description="Masked")
    push_id: str | None
    channels: list[str]
    quiet_start: time
    quiet_end: time
    updated_at: datetime


class DeadLetterPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    message_id: str
    channel: str
    reason: str
    attempts: int
    created_at: datetime
    redriven_at: datetime | None


class AlertPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    summary: str
    message_id: str | None
    created_at: datetime
    acknowledged_at: datetime | None


class TemplatePublic(BaseModel):
    name: str
    version: int
    latest: bool
    title: str
    text: str
    sms: str
    fields: list[str]


class TriggerPublic(BaseModel):
    event_type: str
    template: str
    recipient: str
    live: bool
    urgent: bool
    channels: list[str]
