"""Catalog API schemas (XCreate / XPublic), separate from the tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from govcodes.creditcode import validate_credit_code
from govcodes.itemcode import validate_base_code
from pydantic import BaseModel, ConfigDict, Field, field_validator

Level = Literal["province", "city", "district", "township"]
HandlingType = Literal["即办件", "承诺件", "联办件", "上报件"]


class DepartmentCreate(BaseModel):
    code: str = Field(pattern=r"^[a-z0-9-]{2,40}$")
    name: str = Field(min_length=2, max_length=100)
    short_name: str = Field(min_length=2, max_length=40)
    level: Level
    region_code: str = Field(pattern=r"^\d{6}$")
    credit_code: str
    window: str = Field(max_length=200)
    address: str = Field(max_length=200)
    phone: str = Field(max_length=40)
    hours: str = Field(max_length=300)
    complaint_phone: str = Field(max_length=40)

    @field_validator("credit_code")
    @classmethod
    def _credit_code(cls, value: str) -> str:
        return validate_credit_code(value)


class DepartmentPublic(DepartmentCreate):
    model_config = ConfigDict(from_attributes=True)


class MaterialIn(BaseModel):
    name: str = Field(min_length=2, max_length=200)
    form: Literal["原件", "复印件", "电子"] = "原件"
    copies: int = Field(default=1, ge=0, le=20)
    required: bool = True
    key: bool = False
    rongque: bool = False
    trust_level: Literal["A", "B", "C", "D"] = "C"
    certificate_type: str | None = Field(default=None, pattern=r"^[a-z_]{2,40}$")
    source: str | None = Field(default=None, max_length=100)
    sample: str | None = Field(default=None, max_length=2000, description="填写样稿 guidance")
    blank_form: str | None = Field(default=None, max_length=200)


class Limit(BaseModel):
    value: int = Field(ge=0, le=3650)
    unit: Literal["工作日", "自然日"] = "工作日"


class ItemCreate(BaseModel):
    item_id: str = Field(pattern=r"^[A-Za-z0-9-]{4,40}$", description="Stable id across versions")
    base_code: str
    department_code: str
    name: str = Field(min_length=2, max_length=200)
    handling_type: HandlingType
    deciding_level: Level = "district"
    promised_limit: Limit
    trips: int = Field(ge=0, le=5)
    minsheng: bool = False
    materials: list[MaterialIn] = Field(default_factory=list, max_length=100)
    guide: dict[str, Any] = Field(default_factory=dict, description="Further 办事指南 elements")
    effective_from: date | None = None

    @field_validator("base_code")
    @classmethod
    def _base_code(cls, value: str) -> str:
        return validate_base_code(value)


class ItemPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    item_id: str
    version: int
    status: str
    base_code: str
    implementation_code: str
    name: str
    department_code: str
    item_type: str
    handling_type: str
    deciding_level: str
    promised_limit_days: int
    promised_limit_unit: str
    trips: int
    minsheng: bool
    guide: dict[str, Any]
    effective_from: date | None
    effective_to: date | None
    published_at: datetime | None


class ItemPage(BaseModel):
    items: list[ItemPublic]
    total: int
    offset: int
    limit: int
