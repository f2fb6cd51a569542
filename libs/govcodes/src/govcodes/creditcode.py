"""Unified social credit codes (GB 32100-2015): 18 characters, the last a MOD 31 check character."""

from __future__ import annotations

import re

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


class InvalidCreditCode(ValueError):
    pass


def check_char(first17: str) -> str:
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> str:
    code = value.strip().upper()
    if not _SHAPE.match(code):
        raise InvalidCreditCode(
            "统一社会信用代码应为18位，不含I、O、Z、S、V (18 characters from the GB 32100 charset)"
        )
    if check_char(code[:17]) != code[17]:
        raise InvalidCreditCode("统一社会信用代码校验位错误 (check character mismatch)")
    return code
