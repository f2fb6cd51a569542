"""Events written by the catalog service on `catalog.items` (事项 published and retired)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from contracts.envelope import EventData


class MaterialSpec(EventData):
    """One material (材料) of an item version, as intake and datashare need it."""

    name: str
    required: bool
    key: bool = Field(description="A key material can never be accepted late (容缺)")
    rongque: bool = Field(description="May be supplied after acceptance (容缺受理)")
    certificate_type: str | None = Field(
        default=None, description="Certificate type in datashare that can supply it (一证通办)"
    )
    form: str | None = Field(default=None, description="原件 / 复印件 / 电子")
    copies: int | None = None
    trust_level: str | None = Field(default=None, description="材料可信等级 A-D")
    sample: str | None = Field(default=None, description="填写样稿 guidance shown with a missing material")


class SituationSpec(EventData):
    """情形: a situation and the materials that apply in it."""

    code: str
    name: str
    materials: list[str]


class StepSpec(EventData):
    """A process step; special steps (特殊环节) do not count toward the time limit."""

    name: str
    days: int
    counts_toward_limit: bool


class ItemPublished(EventData):
    """catalog.item.published: a version of an item (事项) became the current one."""

    item_id: str
    version: int = Field(ge=1)
    base_code: str = Field(pattern=r"^\d{12}$")
    implementation_code: str = Field(min_length=31, max_length=33)
    name: str
    department_code: str
    handling_type: str = Field(description="即办件 / 承诺件 / 联办件 / 上报件")
    deciding_level: str = Field(description="district / city / province")
    promised_limit_days: int = Field(ge=0)
    promised_limit_unit: str = Field(description="工作日 or 自然日")
    trips: int = Field(ge=0)
    minsheng: bool
    materials: list[MaterialSpec]
    effective_from: date
    legal_limit_days: int | None = None
    legal_limit_unit: str | None = None
    situations: list[SituationSpec] = Field(default_factory=list)
    steps: list[StepSpec] = Field(default_factory=list)
    joint_departments: list[str] = Field(default_factory=list, description="协办 departments of a 联办件")
    deciding_department: str | None = Field(default=None, description="The deciding body of a 上报件")
    result_name: str | None = None
    result_certificate_type: str | None = Field(default=None, description="Certificate the decision issues")
    item_type: str | None = Field(default=None, description="事项类型, e.g. 行政许可")
    zero_trip: bool | None = Field(default=None, description="零次跑")
    one_certificate: bool | None = Field(default=None, description="一证通办")
    fee_fen: int | None = Field(default=None, description="Total fee in fen")
    level: str | None = Field(default=None, description="主项 (applied for itself), 子项 or 办理项")
    parent_base_code: str | None = Field(default=None, description="The 主项 of a 子项 (and of its 办理项)")
    handling_suffix: str | None = Field(
        default=None, description="业务办理项: the two digits it adds to its item's implementation code"
    )


class ItemRetired(EventData):
    """catalog.item.retired: an item version may no longer be applied for."""

    item_id: str
    version: int = Field(ge=1)
    effective_to: date
