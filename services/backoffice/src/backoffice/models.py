"""Back-office tables: department tasks made from accepted applications."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.db import UtcDateTime


class Base(DeclarativeBase):
    pass


class Task(Base):
    """One department's work on one application (后台办理); deadlines arrive with the calendar."""

    __tablename__ = "task"
    __table_args__ = (sa.Index("ix_task_worklist", "department_code", "status", "deadline_date"),)

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    application_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    case_number: Mapped[str] = mapped_column(sa.String(50), unique=True)
    item_id: Mapped[str] = mapped_column(sa.String(40))
    item_version: Mapped[int]
    department_code: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(20))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    deadline_date: Mapped[date | None]
