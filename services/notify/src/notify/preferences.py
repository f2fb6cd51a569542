"""Contact data and preferences: phone and e-mail validation, quiet hours, the data-subject hash."""

from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from notify.clock import LOCAL_TZ

CHANNELS = ("sms", "email", "push", "inbox")
QUIET_START = time(22, 0)
QUIET_END = time(8, 0)


class InvalidContact(ValueError):
    """The reason is in Chinese and English and never repeats the number or address itself."""


def normalise_mobile(raw: str) -> str:
    """A mainland mobile number as its 11 national digits; InvalidContact otherwise."""
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException as exc:
        raise InvalidContact("手机号码格式不正确 (not a phone number)") from exc
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        raise InvalidContact("不是有效的中国大陆手机号码 (not a valid mainland China number)")
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidContact("该号码不能接收短信 (not a mobile number)")
    return phonenumbers.national_significant_number(number)


def normalise_email(raw: str) -> str:
    """The normalised address; syntax only, since a DNS lookup would make intake depend on the network."""
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidContact(f"电子邮箱地址无效 (invalid e-mail address): {exc}") from exc


def subject_hash(id_number: str) -> str:
    """How datashare names a data subject in `datashare.access`: SHA-256 of the upper-case ID number."""
    return hashlib.sha256(id_number.strip().upper().encode()).hexdigest()


def quiet_until(now: datetime, start: time = QUIET_START, end: time = QUIET_END) -> datetime | None:
    """The end of the quiet period `now` falls in (local time), or None outside quiet hours."""
    local = now.astimezone(LOCAL_TZ)
    at = local.timetz().replace(tzinfo=None)
    if start == end:
        return None
    overnight = start > end
    quiet = (at >= start or at < end) if overnight else (start <= at < end)
    if not quiet:
        return None
    day = local.date() + timedelta(days=1) if overnight and at >= start else local.date()
    return datetime.combine(day, end, tzinfo=LOCAL_TZ)
