"""Intake tables: the local item read model, applications (申请/办件) and case-number serials."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.db import UtcDateTime


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {list[dict[str, Any]]: sa.JSON}


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


class Application(Base):
    """An application (办件) and where it stands; history rows come with the intake issue."""

    __tablename__ = "application"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["item_id", "item_version"], ["catalog_item.item_id", "catalog_item.version"]
        ),
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


class CaseSerial(Base):
    """The last serial used per implementation code and day: case numbers without races."""

    __tablename__ = "case_serial"

    prefix: Mapped[str] = mapped_column(sa.String(45), primary_key=True)
    last: Mapped[int]
