"""Intake tables: the local item read model, applications (申请/办件) and case-number serials."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.db import UtcDateTime


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {list[dict[str, Any]]: sa.JSON, list[str]: sa.JSON}


class CatalogItem(Base):
    """A copy of each published item version, built from `catalog.items` events only."""

    __tablename__ = "catalog_item"

    item_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    implementation_code: Mapped[str] = mapped_column(sa.String(33))
    name: Mapped[str] = mapped_column(sa.String(200))
    department_code: Mapped[str] = mapped_column(sa.String(40))
    handling_type: Mapped[str] = mapped_column(sa.String(10))
    deciding_level: Mapped[str] = mapped_column(sa.String(10))
    promised_limit_days: Mapped[int]
    promised_limit_unit: Mapped[str] = mapped_column(sa.String(10))
    trips: Mapped[int]
    minsheng: Mapped[bool]
    materials: Mapped[list[dict[str, Any]]]
    effective_from: Mapped[date]
    effective_to: Mapped[date | None]
    # Since 0003: what applications, routing, notices and output need from the version.
    situations: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    joint_departments: Mapped[list[str]] = mapped_column(default=list)
    deciding_department: Mapped[str | None] = mapped_column(sa.String(40), default=None)
    legal_limit_days: Mapped[int | None] = mapped_column(default=None)
    legal_limit_unit: Mapped[str | None] = mapped_column(sa.String(10), default=None)
    result_name: Mapped[str | None] = mapped_column(sa.String(200), default=None)
    result_certificate_type: Mapped[str | None] = mapped_column(sa.String(40), default=None)


class Application(Base):
    """An application (办件) and where it stands; its history is in `status_change` rows."""

    __tablename__ = "application"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["item_id", "item_version"], ["catalog_item.item_id", "catalog_item.version"]
        ),
        sa.Index("ix_application_accepted", "accepted_at"),
        sa.Index("ix_application_status", "status"),
    )

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    case_number: Mapped[str] = mapped_column(sa.String(50), unique=True)
    item_id: Mapped[str] = mapped_column(sa.String(40))
    item_version: Mapped[int]
    department_code: Mapped[str] = mapped_column(sa.String(40))
    applicant_kind: Mapped[str] = mapped_column(sa.String(10))
    applicant_id: Mapped[str] = mapped_column(sa.String(18), index=True)
    applicant_name: Mapped[str] = mapped_column(sa.String(100))
    channel: Mapped[str] = mapped_column(sa.String(10))
    status: Mapped[str] = mapped_column(sa.String(20))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Since 0003 (rows from before have the defaults).
    request_hash: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    item_name: Mapped[str | None] = mapped_column(sa.String(200), default=None)
    handling_type: Mapped[str | None] = mapped_column(sa.String(10), default=None)
    deciding_level: Mapped[str | None] = mapped_column(sa.String(10), default=None)
    deciding_department: Mapped[str | None] = mapped_column(sa.String(40), default=None, index=True)
    situation_code: Mapped[str | None] = mapped_column(sa.String(20), default=None)
    applicant_phone: Mapped[str | None] = mapped_column(sa.String(20), default=None)
    legal_representative: Mapped[str | None] = mapped_column(sa.String(100), default=None)
    legal_representative_id: Mapped[str | None] = mapped_column(sa.String(18), default=None, index=True)
    agent_id: Mapped[str | None] = mapped_column(sa.String(18), default=None, index=True)
    agent_name: Mapped[str | None] = mapped_column(sa.String(100), default=None)
    agent_phone: Mapped[str | None] = mapped_column(sa.String(20), default=None)
    ticket_id: Mapped[str | None] = mapped_column(sa.String(32), default=None)
    bundle_id: Mapped[str | None] = mapped_column(sa.String(32), default=None, index=True)
    precheck_id: Mapped[str | None] = mapped_column(sa.String(32), default=None)
    submitted_by: Mapped[str | None] = mapped_column(sa.String(100), default=None)
    one_certificate: Mapped[bool] = mapped_column(default=False)
    instant: Mapped[bool] = mapped_column(default=False)  # 即办件 completed at the window
    rongque: Mapped[bool] = mapped_column(default=False)
    promised_date: Mapped[date | None] = mapped_column(default=None)
    status_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    decision: Mapped[str | None] = mapped_column(sa.String(12), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    on_time: Mapped[bool | None] = mapped_column(default=None)
    delivery_method: Mapped[str | None] = mapped_column(sa.String(10), default=None)
    # The item version's materials (情形 applied) and how each was provided: part of the aggregate,
    # read and written with it (intake.applications.materials.Material).
    materials: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class CaseSerial(Base):
    """The last serial used per implementation code and day: case numbers without races."""

    __tablename__ = "case_serial"

    prefix: Mapped[str] = mapped_column(sa.String(45), primary_key=True)
    last: Mapped[int]
