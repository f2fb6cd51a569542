"""Datashare tables: certificates held on behalf of their issuers (电子证照)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.db import UtcDateTime


class Base(DeclarativeBase):
    pass


class Certificate(Base):
    __tablename__ = "certificate"
    __table_args__ = (
        sa.UniqueConstraint("certificate_type", "number"),
        sa.Index("ix_certificate_subject", "subject_id", "certificate_type"),
    )

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    certificate_type: Mapped[str] = mapped_column(sa.String(40))
    number: Mapped[str] = mapped_column(sa.String(60))
    subject_id: Mapped[str] = mapped_column(sa.String(18))
    issuer_code: Mapped[str] = mapped_column(sa.String(40))
    issued_on: Mapped[date]
    valid_until: Mapped[date | None]
    status: Mapped[str] = mapped_column(sa.String(10))
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime())
