"""Back-office tables: the item read model, tasks and 协办 sub-tasks, suspensions, the audit trail."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.db import UtcDateTime

# Statuses of a task whose clock is still the department's business (the worklist's default).
OPEN = ("received", "suspended")
_OPEN_SQL = sa.text("status IN ('received', 'suspended')")
_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        list[dict[str, Any]]: sa.JSON,
        list[str]: sa.JSON,
        dict[str, Any]: sa.JSON,
    }


class CatalogItem(Base):
    """Each published item version as `catalog.items` told it: steps, limits, joint departments."""

    __tablename__ = "catalog_item"

    item_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    department_code: Mapped[str] = mapped_column(sa.String(40), index=True)
    handling_type: Mapped[str] = mapped_column(sa.String(10))
    deciding_department: Mapped[str | None] = mapped_column(sa.String(40))
    joint_departments: Mapped[list[str]]
    promised_limit_days: Mapped[int]
    promised_limit_unit: Mapped[str] = mapped_column(sa.String(10))
    legal_limit_days: Mapped[int | None]
    legal_limit_unit: Mapped[str | None] = mapped_column(sa.String(10))
    steps: Mapped[list[dict[str, Any]]]
    result_name: Mapped[str | None] = mapped_column(sa.String(200))
    result_certificate_type: Mapped[str | None] = mapped_column(sa.String(40))
    effective_to: Mapped[date | None]


class Task(Base):
    """One application's work in the responsible (主办) department (后台办理), with its deadline."""

    __tablename__ = "task"
    __table_args__ = (
        sa.Index("ix_task_worklist", "department_code", "status", "deadline_date", "received_at"),
        # The worklist's default (open tasks by deadline) and "my tasks": partial, so closed
        # history never slows the daily list down.
        sa.Index(
            "ix_task_open",
            "department_code",
            "deadline_date",
            "received_at",
            postgresql_where=_OPEN_SQL,
            sqlite_where=_OPEN_SQL,
        ),
        sa.Index(
            "ix_task_open_assignee",
            "department_code",
            "assignee",
            "deadline_date",
            "received_at",
            postgresql_where=_OPEN_SQL,
            sqlite_where=_OPEN_SQL,
        ),
        sa.Index(
            "ix_task_open_item",
            "department_code",
            "item_id",
            "deadline_date",
            "received_at",
            postgresql_where=_OPEN_SQL,
            sqlite_where=_OPEN_SQL,
        ),
        sa.Index("ix_task_item_stats", "item_id", "accepted_date"),
    )

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    application_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    case_number: Mapped[str] = mapped_column(sa.String(50), unique=True)
    item_id: Mapped[str] = mapped_column(sa.String(40))
    item_version: Mapped[int]
    item_name: Mapped[str] = mapped_column(sa.String(200))
    handling_type: Mapped[str] = mapped_column(sa.String(10))
    department_code: Mapped[str] = mapped_column(sa.String(40))
    applicant_kind: Mapped[str] = mapped_column(sa.String(10))
    applicant_id: Mapped[str] = mapped_column(sa.String(40))
    applicant_name: Mapped[str] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(sa.String(20))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    accepted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    accepted_date: Mapped[date]
    limit_days: Mapped[int]
    limit_unit: Mapped[str] = mapped_column(sa.String(10))
    legal_limit_days: Mapped[int | None]
    legal_limit_unit: Mapped[str | None] = mapped_column(sa.String(10))
    suspended_days: Mapped[int] = mapped_column(default=0)
    extended_days: Mapped[int] = mapped_column(default=0)
    deadline_date: Mapped[date | None]
    steps: Mapped[list[dict[str, Any]]]
    result_name: Mapped[str | None] = mapped_column(sa.String(200))
    certificate_type: Mapped[str | None] = mapped_column(sa.String(40))
    assignee: Mapped[str | None] = mapped_column(sa.String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decision: Mapped[str | None] = mapped_column(sa.String(10))
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    appeal_rights: Mapped[str | None] = mapped_column(sa.Text)
    certificate_number: Mapped[str | None] = mapped_column(sa.String(60))
    valid_until: Mapped[date | None]
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decided_date: Mapped[date | None] = mapped_column(index=True)
    decided_by: Mapped[str | None] = mapped_column(sa.String(100))
    days_used: Mapped[int | None]
    on_time: Mapped[bool | None]


# Literals, not bound parameters: a prepared statement's generic plan can use the partial indexes
# above only when the query states their predicate itself.
IS_OPEN = Task.status.in_([sa.literal_column(f"'{status}'") for status in OPEN])


class Subtask(Base):
    """An assisting (协办) department's part of a 联办件; the lead decides only when all are done."""

    __tablename__ = "subtask"
    __table_args__ = (
        sa.UniqueConstraint("task_id", "department_code"),
        sa.Index("ix_subtask_worklist", "department_code", "status", "due_date"),
    )

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    task_id: Mapped[str] = mapped_column(sa.ForeignKey("task.id"))
    department_code: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(20))
    due_date: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    conclusion: Mapped[str | None] = mapped_column(sa.String(10))
    opinion: Mapped[str | None] = mapped_column(sa.Text)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    completed_by: Mapped[str | None] = mapped_column(sa.String(100))


class Suspension(Base):
    """A stopped clock: 补正 (waiting for the applicant) or a special step (特殊环节) that does not count."""

    __tablename__ = "suspension"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    task_id: Mapped[str] = mapped_column(sa.ForeignKey("task.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    reason: Mapped[str] = mapped_column(sa.Text)
    materials: Mapped[list[str]]
    step_name: Mapped[str | None] = mapped_column(sa.String(50))
    due_date: Mapped[date | None]
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    started_date: Mapped[date]
    started_by: Mapped[str] = mapped_column(sa.String(100))
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_date: Mapped[date | None]
    ended_by: Mapped[str | None] = mapped_column(sa.String(100))
    days: Mapped[int | None]


class AuditEntry(Base):
    """One step with its actor and time; append-only (database triggers refuse UPDATE and DELETE)."""

    __tablename__ = "audit_entry"

    seq: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    application_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    subject_kind: Mapped[str] = mapped_column(sa.String(20))
    subject_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    action: Mapped[str] = mapped_column(sa.String(30))
    actor: Mapped[str] = mapped_column(sa.String(100))
    actor_kind: Mapped[str] = mapped_column(sa.String(10))
    department_code: Mapped[str | None] = mapped_column(sa.String(40))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    reason: Mapped[str | None] = mapped_column(sa.Text)
    details: Mapped[dict[str, Any]]


class CertificateSerial(Base):
    """The last certificate serial per type and year: numbers without races (like case numbers)."""

    __tablename__ = "certificate_serial"

    prefix: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    last: Mapped[int]
