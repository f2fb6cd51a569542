"""Subjects of evidence: resident ID numbers (GB 11643) and credit codes (GB 32100), hashed and masked."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from govcodes.creditcode import InvalidCreditCode, validate_credit_code
from govcodes.idnumber import InvalidIdNumber, validate_id_number

from servicekit.masking import mask_id


@dataclass(frozen=True)
class Subject:
    id: str
    kind: str  # person / enterprise

    @property
    def hash(self) -> str:
        return subject_hash(self.id)

    @property
    def mask(self) -> str:
        return mask_id(self.id)


class InvalidSubject(ValueError):
    """The reason names the rule that failed, never the number itself."""


def subject_hash(value: str) -> str:
    """SHA-256 hex of the normalised number: the log's and the events' correlation key.

    Not a secret: ID numbers are few enough to enumerate, so the hash keys records and events
    without spelling the number out; it is no protection against someone who holds the log.
    """
    return hashlib.sha256(value.strip().upper().encode()).hexdigest()


def parse_subject(value: str) -> Subject:
    """A person by resident ID number, or an enterprise by unified social credit code."""
    try:
        return Subject(validate_id_number(value), "person")
    except InvalidIdNumber as person_error:
        try:
            return Subject(validate_credit_code(value), "enterprise")
        except InvalidCreditCode:
            raise InvalidSubject(str(person_error)) from None


def mask_subject(value: str) -> str:
    return mask_id(value.strip().upper())[:40]
