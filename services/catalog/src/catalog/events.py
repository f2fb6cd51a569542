"""The catalogue's events: everything intake, back office and datashare need, so none calls us."""

from __future__ import annotations

from catalog.models import ItemVersion
from contracts.catalog import ItemPublished, ItemRetired, MaterialSpec, SituationSpec, StepSpec
from contracts.envelope import Event, new_event
from servicekit.logs import request_id_var

SOURCE = "/catalog"


def published(item: ItemVersion) -> Event:
    assert item.effective_from is not None
    guide = item.guide
    result = guide.get("result") or {}
    data = ItemPublished(
        item_id=item.item_id,
        version=item.version,
        base_code=item.base_code,
        implementation_code=item.implementation_code,
        name=item.name,
        department_code=item.department_code,
        handling_type=item.handling_type,
        deciding_level=item.deciding_level,
        promised_limit_days=item.promised_limit_days,
        promised_limit_unit=item.promised_limit_unit,
        trips=item.trips,
        minsheng=item.minsheng,
        materials=[MaterialSpec.model_validate(m) for m in guide.get("materials", [])],
        effective_from=item.effective_from,
        legal_limit_days=guide["legal_limit"]["value"],
        legal_limit_unit=guide["legal_limit"]["unit"],
        situations=[SituationSpec.model_validate(s) for s in guide.get("situations", [])],
        steps=[StepSpec.model_validate(s) for s in guide.get("steps", [])],
        joint_departments=guide.get("joint_departments", []),
        deciding_department=guide.get("deciding_department"),
        result_name=result.get("name"),
        result_certificate_type=result.get("certificate_type"),
        item_type=item.item_type,
        zero_trip=item.zero_trip,
        one_certificate=item.one_certificate,
        fee_fen=sum(f["amount_fen"] for f in guide.get("fees", [])),
        level=item.level,
        parent_base_code=item.parent_base_code,
        handling_suffix=item.handling_suffix,
    )
    return _event("catalog.item.published", item.item_id, data)


def retired(item: ItemVersion) -> Event:
    assert item.effective_to is not None
    return _event(
        "catalog.item.retired",
        item.item_id,
        ItemRetired(item_id=item.item_id, version=item.version, effective_to=item.effective_to),
    )


def _event(event_type: str, item_id: str, data: ItemPublished | ItemRetired) -> Event:
    return new_event(
        type=event_type, source=SOURCE, subject=item_id, data=data, requestid=request_id_var.get()
    )
