"""A department and an item in the shipped data's format, for catalog tests."""

from __future__ import annotations

from typing import Any

from govcodes.creditcode import check_char

_ORG = "11330702" + "002609732"
CREDIT = _ORG + check_char(_ORG)

DEPARTMENT: dict[str, str] = {
    "code": "wc-mzj",
    "name": "金华市婺城区民政局",
    "short_name": "区民政局",
    "level": "district",
    "region_code": "330702",
    "credit_code": CREDIT,
    "window": "婺城区行政服务中心二楼综合受理区",
    "address": "金华市婺城区宾虹路858号",
    "phone": "0579-82468123",
    "hours": "周一至周五 8:30-12:00 14:30-17:30",
    "complaint_phone": "12345",
}


def item(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "item_id": "wc-mzj-lnyd",
        "base_code": "330520001000",
        "department": "wc-mzj",
        "name": "老年人优待证办理",
        "type": "行政给付",
        "guiding_department": "省民政厅",
        "legal_basis": ["《中华人民共和国老年人权益保障法》第五十七条"],
        "conditions": ["年满60周岁的婺城区户籍老年人"],
        "materials": [
            {"name": "居民身份证", "key": True, "certificate_type": "id_card", "trust_level": "A"},
            {"name": "户口簿", "certificate_type": "hukou", "trust_level": "A"},
            {"name": "近期一寸免冠照片", "rongque": True, "sample": "白底彩色照片1张"},
        ],
        "steps": [{"name": "受理", "days": 0}, {"name": "办结", "days": 0}],
        "legal_limit": {"value": 5, "unit": "工作日"},
        "promised_limit": {"value": 0, "unit": "工作日"},
        "trips": 0,
        "handling_type": "即办件",
        "result": {"name": "老年人优待证", "certificate_type": "elderly_card"},
        "channels": ["窗口", "浙里办"],
        "location": "婺城区行政服务中心二楼民政窗口",
        "hours": "周一至周五 8:30-12:00 14:30-17:30",
        "consult_phone": "0579-82468123",
        "complaint_phone": "12345",
        "minsheng": True,
        "topics": ["养老"],
        "synonyms": ["老年证", "老人证"],
    }
    spec.update(changes)
    return spec
