"""Notify tables: messages and where each stands in its delivery lifecycle."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.db import UtcDateTime


class Base(DeclarativeBase):
    pass


class Message(Base):
    """One message to one recipient on one channel; (event, template, channel) is sent once."""

    __tablename__ = "message"
    __table_args__ = (sa.UniqueConstraint("event_id", "template", "channel"),)

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(64))
    template: Mapped[str] = mapped_column(sa.String(60))
    template_version: Mapped[int]
    channel: Mapped[str] = mapped_column(sa.String(10))
    recipient_id: Mapped[str] = mapped_column(sa.String(18), index=True)
    case_number: Mapped[str | None] = mapped_column(sa.String(50), index=True)
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
