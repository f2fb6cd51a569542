"""Tables of applications beyond the application row: files, history, bundles, 容缺, output, pre-checks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from intake.models import Base
from servicekit.db import UtcDateTime


class StoredFile(Base):
    """An uploaded material file; the content is here or in the files directory (`stored_in`)."""

    __tablename__ = "stored_file"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(sa.String(50))
    filename: Mapped[str | None] = mapped_column(sa.String(200))
    uploader_client: Mapped[str] = mapped_column(sa.String(100))
    uploader_citizen: Mapped[str | None] = mapped_column(sa.String(18))
    stored_in: Mapped[str] = mapped_column(sa.String(4))  # db / dir
    content: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class StatusChange(Base):
    """The immutable history of an application: every status with its time, actor and reason."""

    __tablename__ = "status_change"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(sa.ForeignKey("application.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(sa.String(100))
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    detail: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)


class Bundle(Base):
    """一件事: several items applied for together, tracked as one; each is its own application."""

    __tablename__ = "bundle"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    applicant_id: Mapped[str] = mapped_column(sa.String(18), index=True)
    channel: Mapped[str] = mapped_column(sa.String(10))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    request_hash: Mapped[str | None] = mapped_column(sa.String(64))
    created_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RongquePromise(Base):
    """容缺受理: the applicant's signed promise to supply the listed materials by the deadline."""

    __tablename__ = "rongque_promise"
    __table_args__ = (sa.Index("ix_rongque_open", "status", "deadline_date"),)

    application_id: Mapped[str] = mapped_column(sa.ForeignKey("application.id"), primary_key=True)
    materials: Mapped[list[str]] = mapped_column(sa.JSON)
    promise_text: Mapped[str] = mapped_column(sa.String(500))
    signed_name: Mapped[str] = mapped_column(sa.String(100))
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    recorded_by: Mapped[str] = mapped_column(sa.String(100))
    deadline_date: Mapped[date]
    status: Mapped[str] = mapped_column(sa.String(12))  # open / fulfilled / terminated
    warned_on: Mapped[date | None]
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class BadCreditEntry(Base):
    """The bad-credit list (失信名单): its subjects are refused 容缺受理."""

    __tablename__ = "bad_credit_entry"

    subject_id: Mapped[str] = mapped_column(sa.String(18), primary_key=True)
    reason: Mapped[str] = mapped_column(sa.String(200))
    source: Mapped[str] = mapped_column(sa.String(100))
    listed_on: Mapped[date]
    expires_on: Mapped[date | None]


class Output(Base):
    """出件: how the result reaches the applicant (pickup code or courier) and where it is."""

    __tablename__ = "output"

    application_id: Mapped[str] = mapped_column(sa.ForeignKey("application.id"), primary_key=True)
    method: Mapped[str] = mapped_column(sa.String(10))  # pickup / courier
    # chosen (waiting for the result) / ready / dispatched / delivered / failed
    status: Mapped[str] = mapped_column(sa.String(12))
    pickup_place: Mapped[str | None] = mapped_column(sa.String(200))
    code_hash: Mapped[str | None] = mapped_column(sa.String(200))  # scrypt, salted: never the code
    attempts: Mapped[int] = mapped_column(default=0)
    recipient_name: Mapped[str | None] = mapped_column(sa.String(100))
    recipient_phone: Mapped[str | None] = mapped_column(sa.String(20))
    address: Mapped[str | None] = mapped_column(sa.String(300))
    courier: Mapped[str | None] = mapped_column(sa.String(50))
    tracking_number: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    handed_over_by: Mapped[str | None] = mapped_column(sa.String(100))


class Precheck(Base):
    """材料预审: what datashare supplies for a subject and item version; submissions may cite it."""

    __tablename__ = "precheck"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    subject_hash: Mapped[str] = mapped_column(sa.String(64))
    item_id: Mapped[str] = mapped_column(sa.String(40))
    item_version: Mapped[int]
    situation_code: Mapped[str | None] = mapped_column(sa.String(20))
    materials: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    resolution_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
