"""Notify tables: messages and their delivery lifecycle, the contact book, dead letters, alerts."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.db import UtcDateTime


class Base(DeclarativeBase):
    pass


class Message(Base):
    """One message to one recipient on one channel; (event, template, channel, recipient) is sent once."""

    __tablename__ = "message"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "template", "channel", "recipient_id", name="uq_message_delivery"),
        sa.Index("ix_message_due", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(64))
    event_type: Mapped[str | None] = mapped_column(sa.String(200))
    template: Mapped[str] = mapped_column(sa.String(60))
    template_version: Mapped[int]
    channel: Mapped[str] = mapped_column(sa.String(10))
    # A resident ID number, or `dept:<code>` for a department's duty contact.
    recipient_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    # Phone, e-mail or push id as it was when the message was made (the contact book may change).
    address: Mapped[str | None] = mapped_column(sa.String(320))
    case_number: Mapped[str | None] = mapped_column(sa.String(50), index=True)
    # What the message is about (ticket, appointment, application): for once-only and cancelling.
    subject: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    title: Mapped[str | None] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    html: Mapped[str | None] = mapped_column(sa.Text)
    segments: Mapped[int | None]
    urgent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(sa.String(20))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    provider: Mapped[str | None] = mapped_column(sa.String(20))
    provider_reference: Mapped[str | None] = mapped_column(sa.String(100))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # SHA-256 of the secret in this attempt's delivery-report URL; the secret itself is not kept.
    callback_token_hash: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Contact(Base):
    """The contact book: how to reach a citizen (or a department) and what they want to receive."""

    __tablename__ = "contact"

    owner_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    # SHA-256 of the ID number, to recognise the subject of datashare's access events.
    subject_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(50))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    push_id: Mapped[str | None] = mapped_column(sa.String(200))
    channels: Mapped[list[str]] = mapped_column(sa.JSON)
    quiet_start: Mapped[time] = mapped_column(sa.Time())
    quiet_end: Mapped[time] = mapped_column(sa.Time())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CaseRecipient(Base):
    """Read model from intake's 受理 events: who applied for a case, for later events about it."""

    __tablename__ = "case_recipient"

    case_number: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    application_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    applicant_id: Mapped[str] = mapped_column(sa.String(18))
    applicant_name: Mapped[str] = mapped_column(sa.String(100))
    item_id: Mapped[str] = mapped_column(sa.String(40))
    department_code: Mapped[str] = mapped_column(sa.String(40))


class ItemName(Base):
    """Read model from `catalog.items`: the 事项 name a message shows instead of its id."""

    __tablename__ = "item_name"

    item_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(200))


class ParkedEvent(Base):
    """An event about a case whose 受理 event has not arrived yet; replayed when it does."""

    __tablename__ = "parked_event"

    event_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    case_number: Mapped[str] = mapped_column(sa.String(50), index=True)
    envelope: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    parked_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DeadLetter(Base):
    """A message whose retries ran out; an operator may re-drive it."""

    __tablename__ = "dead_letter"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    message_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    channel: Mapped[str] = mapped_column(sa.String(10))
    reason: Mapped[str] = mapped_column(sa.Text)
    attempts: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    redriven_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Alert(Base):
    """Something operators must look at: a dead letter or a template that cannot be rendered."""

    __tablename__ = "alert"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    summary: Mapped[str] = mapped_column(sa.Text)
    message_id: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
