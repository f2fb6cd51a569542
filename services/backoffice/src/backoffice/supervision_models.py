"""Supervision (督查) tables: ratings (好差评), their follow-ups (回访/整改), complaints, alerts raised."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.models import Base
from servicekit.db import UtcDateTime


class Rating(Base):
    """An applicant's rating of one stage of a case; a 追评 points at the rating it adds to."""

    __tablename__ = "rating"
    __table_args__ = (
        # One rating per stage, and one 追评 per rating: the database holds the rule under races.
        sa.UniqueConstraint("application_id", "stage", "follow_up_of"),
        sa.Index("ix_rating_stats", "department_code", "rated_date"),
    )

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    application_id: Mapped[str] = mapped_column(sa.String(40))
    task_id: Mapped[str] = mapped_column(sa.ForeignKey("task.id"))
    department_code: Mapped[str] = mapped_column(sa.String(40))
    item_id: Mapped[str] = mapped_column(sa.String(40))
    stage: Mapped[str] = mapped_column(sa.String(10))
    # '' for a first rating: NULLs never collide in a unique constraint, '' does.
    follow_up_of: Mapped[str] = mapped_column(sa.String(40), default="")
    score: Mapped[int]
    tags: Mapped[list[str]]
    comment: Mapped[str | None] = mapped_column(sa.Text)
    rated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    rated_date: Mapped[date]


class FollowUp(Base):
    """A bad rating's follow-up: 回访 within 1 working day, 整改 within 15 working days."""

    __tablename__ = "followup"
    __table_args__ = (sa.Index("ix_followup_worklist", "department_code", "status"),)

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    rating_id: Mapped[str] = mapped_column(sa.ForeignKey("rating.id"), unique=True)
    application_id: Mapped[str] = mapped_column(sa.String(40))
    case_number: Mapped[str] = mapped_column(sa.String(50))
    department_code: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(20))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    visit_due: Mapped[date]
    rectify_due: Mapped[date]
    visited_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    visited_date: Mapped[date | None]
    visited_by: Mapped[str | None] = mapped_column(sa.String(100))
    visit_note: Mapped[str | None] = mapped_column(sa.Text)
    rectified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    rectified_date: Mapped[date | None]
    rectified_by: Mapped[str | None] = mapped_column(sa.String(100))
    rectify_note: Mapped[str | None] = mapped_column(sa.Text)


class Complaint(Base):
    """A complaint (投诉) against a department, e.g. from the 12345 hotline, tracked to its answer."""

    __tablename__ = "complaint"
    __table_args__ = (sa.Index("ix_complaint_worklist", "department_code", "status", "due_date"),)

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    department_code: Mapped[str] = mapped_column(sa.String(40))
    channel: Mapped[str] = mapped_column(sa.String(10))
    application_id: Mapped[str | None] = mapped_column(sa.String(40))
    case_number: Mapped[str | None] = mapped_column(sa.String(50))
    content: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(20))
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    filed_by: Mapped[str] = mapped_column(sa.String(100))
    due_date: Mapped[date]
    answer: Mapped[str | None] = mapped_column(sa.Text)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    answered_date: Mapped[date | None]
    answered_by: Mapped[str | None] = mapped_column(sa.String(100))


class SupervisionAlert(Base):
    """A warning or escalation already raised for one due date: the periodic sweep raises each once."""

    __tablename__ = "supervision_alert"

    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    subject_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    due_date: Mapped[date] = mapped_column(primary_key=True)
    raised_on: Mapped[date]
