"""The guide view (办事指南): everything a citizen needs in one call, and the printable 一次性告知."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from pydantic import BaseModel, Field

from catalog.models import Department, ItemVersion
from catalog.schemas import Fee, Limit, Material, Result, Situation, Step
from catalog.tree import Place
from servicekit.problems import Problem

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)


class DepartmentContact(BaseModel):
    code: str
    name: str
    window: str
    phone: str
    hours: str


class GuideView(BaseModel):
    item_id: str
    version: int
    name: str
    type: str
    place: Place = Field(description="主项 / 子项 / 办理项: the 主项 it belongs to, its item or its 办理项")
    department: DepartmentContact
    handling_type: str
    legal_basis: list[str]
    conditions: list[str]
    situation: Situation | None
    situations: list[Situation]
    materials: list[Material]
    steps: list[Step]
    legal_limit: Limit
    promised_limit: Limit
    fees: list[Fee]
    fee_total_fen: int
    trips: int
    zero_trip: bool
    one_certificate: bool
    result: Result | None
    channels: list[str]
    location: str
    hours: str
    consult_phone: str
    complaint_phone: str
    notice: list[str]


def build_guide(
    item: ItemVersion, department: Department, situation_code: str | None, place: Place
) -> GuideView:
    g: dict[str, Any] = item.guide
    situations = [Situation.model_validate(s) for s in g.get("situations", [])]
    chosen = next((s for s in situations if s.code == situation_code), None)
    if situation_code is not None and chosen is None:
        raise Problem(
            422,
            "validation_failed",
            "请求参数有误 Invalid request",
            f"事项没有情形 {situation_code}",
            errors=[
                {"field": "situation", "rule": "exists", "message": f"known: {[s.code for s in situations]}"}
            ],
        )
    materials = [Material.model_validate(m) for m in g.get("materials", [])]
    if chosen is not None:
        materials = [m for m in materials if m.name in set(chosen.materials)]
    fees = [Fee.model_validate(f) for f in g.get("fees", [])]
    view = GuideView(
        item_id=item.item_id,
        version=item.version,
        name=item.name,
        type=item.item_type,
        place=place,
        department=DepartmentContact(
            code=department.code,
            name=department.name,
            window=department.window,
            phone=department.phone,
            hours=department.hours,
        ),
        handling_type=item.handling_type,
        legal_basis=g["legal_basis"],
        conditions=g.get("conditions", []),
        situation=chosen,
        situations=situations,
        materials=materials,
        steps=[Step.model_validate(s) for s in g["steps"]],
        legal_limit=Limit.model_validate(g["legal_limit"]),
        promised_limit=Limit.model_validate(g["promised_limit"]),
        fees=fees,
        fee_total_fen=sum(f.amount_fen for f in fees),
        trips=item.trips,
        zero_trip=item.zero_trip,
        one_certificate=item.one_certificate,
        result=Result.model_validate(g["result"]) if g.get("result") else None,
        channels=g.get("channels", []),
        location=g["location"],
        hours=g["hours"],
        consult_phone=g["consult_phone"],
        complaint_phone=g["complaint_phone"],
        notice=[],
    )
    view.notice = notice_lines(view)
    return view


def notice_lines(view: GuideView) -> list[str]:
    """一次性告知: every material and condition in one list, so nobody comes back twice."""
    lines = [f"办理“{view.name}”需准备以下材料（一次性告知）："]
    for number, m in enumerate(view.materials, start=1):
        need = "必需" if m.required else "视情况提供"
        fetched = "，可通过数据共享免于提交" if m.certificate_type and m.certificate_type != "id_card" else ""
        late = "，可容缺后补" if m.rongque else ""
        lines.append(f"{number}. {m.name}（{m.form}{m.copies}份，{need}{fetched}{late}）")
    if view.conditions:
        lines.append("受理条件：" + "；".join(view.conditions))
    limit = view.promised_limit
    lines.append("承诺时限：当场办结" if limit.value == 0 else f"承诺时限：{limit.value}个{limit.unit}")
    lines.append("收费：不收费" if view.fee_total_fen == 0 else f"收费：{view.fee_total_fen / 100:.2f}元")
    lines.append(
        f"办理地点：{view.location}；咨询电话：{view.consult_phone}；投诉电话：{view.complaint_phone}"
    )
    return lines


def render_printable(view: GuideView) -> str:
    return _TEMPLATES.get_template("guide.html").render(guide=view)
