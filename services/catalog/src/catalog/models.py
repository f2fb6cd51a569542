"""Catalog tables: departments and item versions (事项 and their 办事指南)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from catalog import derived
from servicekit.db import UtcDateTime


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: sa.JSON}


class Department(Base):
    """A district department or a municipal body that implements or decides items."""

    __tablename__ = "department"

    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    short_name: Mapped[str] = mapped_column(sa.String(40))
    level: Mapped[str] = mapped_column(sa.String(10))
    region_code: Mapped[str] = mapped_column(sa.String(6))
    credit_code: Mapped[str] = mapped_column(sa.String(18), unique=True)
    window: Mapped[str] = mapped_column(sa.String(200))
    address: Mapped[str] = mapped_column(sa.String(200))
    phone: Mapped[str] = mapped_column(sa.String(40))
    hours: Mapped[str] = mapped_column(sa.String(300))
    complaint_phone: Mapped[str] = mapped_column(sa.String(40))


class MainItem(Base):
    """主项: a heading of the catalogue that groups 子项 and is not applied for itself."""

    __tablename__ = "main_item"

    base_code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    item_type: Mapped[str] = mapped_column(sa.String(20))
    department_code: Mapped[str] = mapped_column(sa.ForeignKey("department.code"))
    legal_basis: Mapped[list[str]] = mapped_column(sa.JSON)


class ItemVersion(Base):
    """One version of an item: draft -> published -> retired. Applications pin (item_id, version)."""

    __tablename__ = "item_version"
    __table_args__ = (
        sa.UniqueConstraint("implementation_code", "version"),
        sa.Index("ix_item_version_status", "status", "department_code"),
        sa.Index("ix_item_version_parent", "parent_base_code"),
    )

    item_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(10))
    base_code: Mapped[str] = mapped_column(sa.String(12))
    implementation_code: Mapped[str] = mapped_column(sa.String(33))
    name: Mapped[str] = mapped_column(sa.String(200))
    # 子项 name their 主项; a 业务办理项 adds two digits to the code of the item it belongs to.
    parent_base_code: Mapped[str | None] = mapped_column(sa.String(12))
    handling_suffix: Mapped[str | None] = mapped_column(sa.String(2))
    department_code: Mapped[str] = mapped_column(sa.ForeignKey("department.code"))
    item_type: Mapped[str] = mapped_column(sa.String(20))
    handling_type: Mapped[str] = mapped_column(sa.String(10))
    deciding_level: Mapped[str] = mapped_column(sa.String(10))
    promised_limit_days: Mapped[int]
    promised_limit_unit: Mapped[str] = mapped_column(sa.String(10))
    trips: Mapped[int]
    minsheng: Mapped[bool]
    guide: Mapped[dict[str, Any]]
    effective_from: Mapped[date | None]
    effective_to: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    @property
    def level(self) -> derived.Level:
        return derived.level(self.parent_base_code, self.handling_suffix)

    @property
    def zero_trip(self) -> bool:
        return derived.zero_trip(self.trips)

    @property
    def one_certificate(self) -> bool:
        return derived.one_certificate(self.guide.get("materials", []))
