"""Resident ID numbers (GB 11643-1999): 18 characters with an ISO 7064 MOD 11-2 check character."""

from __future__ import annotations

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


class InvalidIdNumber(ValueError):
    """The reason names the rule that failed, never the number itself."""


def check_char(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def validate_id_number(value: str, today: date | None = None) -> str:
    """Return the normalised number (upper-case X) or raise InvalidIdNumber."""
    number = value.strip().upper()
    if not _SHAPE.match(number):
        raise InvalidIdNumber("身份证号码应为18位，前17位为数字 (must be 17 digits and a check character)")
    if not 11 <= int(number[:2]) <= 91:
        raise InvalidIdNumber("身份证号码地区码无效 (invalid region code)")
    try:
        born = birth_date(number)
    except ValueError as exc:
        raise InvalidIdNumber("身份证号码出生日期无效 (invalid birth date)") from exc
    if born > (today or date.today()) or born.year < 1890:
        raise InvalidIdNumber("身份证号码出生日期无效 (invalid birth date)")
    if check_char(number[:17]) != number[17]:
        raise InvalidIdNumber("身份证号码校验位错误 (check character mismatch)")
    return number


def birth_date(number: str) -> date:
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def age_on(number: str, day: date) -> int:
    born = birth_date(number)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
