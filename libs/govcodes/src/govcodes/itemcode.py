"""Item codes (事项编码): the 12-digit base code and the 31-character implementation code."""

from __future__ import annotations

import re

from govcodes.creditcode import InvalidCreditCode, validate_credit_code

ITEM_TYPES = {
    "01": "行政许可",
    "02": "行政处罚",
    "03": "行政强制",
    "04": "行政征收",
    "05": "行政给付",
    "06": "行政检查",
    "07": "行政确认",
    "08": "行政奖励",
    "09": "行政裁决",
    "10": "其他行政权力",
    "20": "公共服务",
}
LEVEL_DIGITS = {"province": "2", "city": "3", "district": "4", "township": "5"}
_BASE = re.compile(r"^\d{12}$")


class InvalidItemCode(ValueError):
    pass


def validate_base_code(code: str) -> str:
    """SS TT DD MMM sss: origin, item type, guiding department, main item, sub-item."""
    if not _BASE.match(code):
        raise InvalidItemCode("基本编码应为12位数字 (base code must be 12 digits)")
    if code[2:4] not in ITEM_TYPES:
        raise InvalidItemCode(f"基本编码的事项类型码 {code[2:4]} 无效 (unknown item type code)")
    return code


def implementation_code(credit_code: str, level: str, base_code: str, handling_suffix: str = "") -> str:
    """Credit code of the implementing body + level digit + base code (+ 2 digits for 办理项)."""
    try:
        credit = validate_credit_code(credit_code)
    except InvalidCreditCode as exc:
        raise InvalidItemCode(f"实施主体{exc}") from exc
    if level not in LEVEL_DIGITS:
        raise InvalidItemCode(f"层级 {level} 无效 (level must be one of {sorted(LEVEL_DIGITS)})")
    if handling_suffix and not re.fullmatch(r"\d{2}", handling_suffix):
        raise InvalidItemCode("业务办理项编码应为2位数字 (handling item suffix must be 2 digits)")
    return credit + LEVEL_DIGITS[level] + validate_base_code(base_code) + handling_suffix
