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


class ItemRetired(EventData):
    """catalog.item.retired: an item version may no longer be applied for."""

    item_id: str
    version: int = Field(ge=1)
    effective_to: date
