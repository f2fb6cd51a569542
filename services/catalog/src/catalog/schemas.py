"""Catalog API schemas: departments and the full item (八统一 superset), separate from the tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, Self

from govcodes.creditcode import validate_credit_code
from govcodes.itemcode import ITEM_TYPES, validate_base_code
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from catalog import derived
from contracts.certificates import CERTIFICATE_TYPES

Level = Literal["province", "city", "district", "township"]
HandlingType = Literal["即办件", "承诺件", "联办件", "上报件"]
Unit = Literal["工作日", "自然日"]
Topic = Literal[
    "生育",
    "入学",
    "就业",
    "婚姻",
    "养老",
    "身后事",
    "开办企业",
    "工程建设",
    "医疗",
    "住房",
    "社会救助",
    "残疾人",
    "退役军人",
    "户籍",
    "出行",
    "纳税",
]
ItemTypeName = Literal[
    "行政许可",
    "行政处罚",
    "行政强制",
    "行政征收",
    "行政给付",
    "行政检查",
    "行政确认",
    "行政奖励",
    "行政裁决",
    "其他行政权力",
    "公共服务",
]
DepartmentCode = str  # validated against the departments table by the service
_CODE = r"^[a-z0-9-]{2,40}$"


class Strict(BaseModel):
    # Imports must name every unknown field instead of silently dropping it.
    model_config = ConfigDict(extra="forbid")


class DepartmentCreate(Strict):
    code: str = Field(pattern=_CODE)
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


def _certificate_type(value: str | None) -> str | None:
    if value is not None and value not in CERTIFICATE_TYPES:
        raise ValueError(f"unknown certificate type {value!r}; known: {', '.join(sorted(CERTIFICATE_TYPES))}")
    return value


def _check_type_code(base_code: str, type_name: str) -> None:
    if ITEM_TYPES[base_code[2:4]] != type_name:
        raise ValueError(f"type {type_name} does not match base code type {ITEM_TYPES[base_code[2:4]]}")


class Material(Strict):
    """材料: what the applicant brings, or what datashare can supply (certificate_type)."""

    name: str = Field(min_length=2, max_length=200)
    form: Literal["原件", "复印件", "电子"] = "原件"
    copies: int = Field(default=1, ge=0, le=20)
    required: bool = True
    key: bool = Field(default=False, description="A key material can never be supplied late (容缺)")
    rongque: bool = Field(default=False, description="May be supplied after acceptance (容缺受理)")
    trust_level: Literal["A", "B", "C", "D"] = "C"
    certificate_type: str | None = None
    source: str | None = Field(default=None, max_length=200)
    sample: str | None = Field(default=None, max_length=2000, description="填写样稿 guidance")
    blank_form: str | None = Field(default=None, max_length=200)

    _check_type = field_validator("certificate_type")(_certificate_type)

    @model_validator(mode="after")
    def _key_is_never_rongque(self) -> Self:
        if self.key and self.rongque:
            raise ValueError("a key material cannot be 容缺-able (key and rongque both true)")
        return self


class Situation(Strict):
    """情形: a situation that changes which materials apply."""

    code: str = Field(pattern=r"^[a-z0-9_]{1,20}$")
    name: str = Field(min_length=2, max_length=100)
    materials: list[str]


class Step(Strict):
    name: str = Field(min_length=1, max_length=50)
    days: int = Field(ge=0, le=3650)
    counts_toward_limit: bool = Field(default=True, description="False for 特殊环节 (公示, 专家评审, …)")


class Limit(Strict):
    value: int = Field(ge=0, le=3650)
    unit: Unit = "工作日"


class Fee(Strict):
    name: str = Field(min_length=2, max_length=200)
    amount_fen: int = Field(ge=0, description="Money in fen (分), never floats")
    basis: str = Field(min_length=2, max_length=500)


class Result(Strict):
    name: str = Field(min_length=2, max_length=100)
    certificate_type: str | None = None

    _check_type = field_validator("certificate_type")(_certificate_type)


class ItemSpec(Strict):
    """One item version as 八统一 and its 办事指南 state it; the import, export and create format."""

    item_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{4,60}$", description="Stable id")
    base_code: str
    department: DepartmentCode = Field(pattern=_CODE, description="Implementing department (实施机关)")
    name: str = Field(min_length=2, max_length=200)
    type: ItemTypeName
    guiding_department: str = Field(min_length=2, max_length=100)
    legal_basis: list[str] = Field(min_length=1, max_length=30)
    conditions: list[str] = Field(default_factory=list, max_length=50)
    parent_base_code: str | None = Field(default=None, description="子项: the base code of its 主项")
    handling_suffix: str | None = Field(
        default=None,
        pattern=r"^(0[1-9]|[1-9]\d)$",
        description="业务办理项: two digits added to the implementation code of the item (same department "
        "and base code) it belongs to",
    )
    situations: list[Situation] = Field(default_factory=list, max_length=30)
    materials: list[Material] = Field(default_factory=list, max_length=100)
    steps: list[Step] = Field(min_length=1, max_length=30)
    legal_limit: Limit
    promised_limit: Limit
    fees: list[Fee] = Field(default_factory=list, max_length=30)
    trips: int = Field(ge=0, le=5, description="Trips to the hall (0 = 零次跑)")
    handling_type: HandlingType
    deciding_level: Level = "district"
    joint_departments: list[DepartmentCode] = Field(default_factory=list, description="协办 for 联办件")
    deciding_department: DepartmentCode | None = Field(
        default=None, description="The deciding body of a 上报件"
    )
    result: Result | None = None
    channels: list[str] = Field(default_factory=list, max_length=10)
    location: str = Field(min_length=2, max_length=300)
    hours: str = Field(min_length=2, max_length=500)
    consult_phone: str = Field(min_length=3, max_length=40)
    complaint_phone: str = Field(min_length=3, max_length=40)
    minsheng: bool = False
    topics: list[Topic] = Field(default_factory=list)
    synonyms: list[str] = Field(default_factory=list, max_length=30)
    effective_from: date | None = None

    @field_validator("base_code", "parent_base_code")
    @classmethod
    def _codes(cls, value: str | None) -> str | None:
        return None if value is None else validate_base_code(value)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _check_type_code(self.base_code, self.type)
        names = [m.name for m in self.materials]
        if len(names) != len(set(names)):
            raise ValueError("material names must be unique")
        for situation in self.situations:
            unknown = set(situation.materials) - set(names)
            if unknown:
                raise ValueError(f"situation {situation.code} names unknown materials: {sorted(unknown)}")
        if (
            self.promised_limit.unit == self.legal_limit.unit
            and self.promised_limit.value > self.legal_limit.value
        ):
            raise ValueError("promised_limit exceeds legal_limit")
        if self.handling_type == "即办件" and self.promised_limit.value != 0:
            raise ValueError("a 即办件 is finished on the spot: promised_limit must be 0")
        if self.handling_type == "联办件" and not self.joint_departments:
            raise ValueError("a 联办件 names its assisting departments (joint_departments)")
        if self.handling_type == "上报件" and (
            self.deciding_department is None or self.deciding_level == "district"
        ):
            raise ValueError("a 上报件 names its deciding_department at city or province level")
        return self

    @property
    def level(self) -> derived.Level:
        return derived.level(self.parent_base_code, self.handling_suffix)

    @property
    def zero_trip(self) -> bool:
        return derived.zero_trip(self.trips)

    @property
    def one_certificate(self) -> bool:
        return derived.one_certificate(m.model_dump() for m in self.materials)

    def resolved_item_id(self) -> str:
        suffix = f"-{self.handling_suffix}" if self.handling_suffix else ""
        return self.item_id or f"{self.department}-{self.base_code}{suffix}"


class MainItemCreate(Strict):
    """主项: groups 子项 under one base code (sub-item serial 000) and is not applied for itself."""

    base_code: str
    department: DepartmentCode = Field(pattern=_CODE, description="The department it is listed under")
    name: str = Field(min_length=2, max_length=200)
    type: ItemTypeName
    legal_basis: list[str] = Field(min_length=1, max_length=30)

    @field_validator("base_code")
    @classmethod
    def _code(cls, value: str) -> str:
        code = validate_base_code(value)
        if code[9:] != "000":
            raise ValueError("主项的子项序号应为000 (a main item's sub-item serial is 000)")
        return code

    @model_validator(mode="after")
    def _type_matches(self) -> Self:
        _check_type_code(self.base_code, self.type)
        return self


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
    level: str = Field(description="主项 (applied for itself), 子项 or 办理项")
    parent_base_code: str | None
    handling_suffix: str | None
    handling_type: str
    deciding_level: str
    promised_limit_days: int
    promised_limit_unit: str
    trips: int
    minsheng: bool
    zero_trip: bool
    one_certificate: bool
    guide: dict[str, Any] = Field(description="The full item as published (ItemSpec)")
    effective_from: date | None
    effective_to: date | None
    published_at: datetime | None


class ImportResult(BaseModel):
    published: int
    unchanged: int
    items: list[str]
    main_items: int = Field(default=0, description="主项 created or changed")
