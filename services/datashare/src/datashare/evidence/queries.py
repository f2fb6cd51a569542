"""The decision's two reads, built once with bind parameters: the hot path only binds and runs them."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa

from datashare.models import AccessRule, Certificate, CertificateType, Consent, Member, Subsystem
from servicekit.db import UtcDateTime

_consumer = sa.bindparam("consumer", type_=sa.String)
_item = sa.bindparam("item_id", type_=sa.String)
_ct = cast(sa.Table, CertificateType.__table__)
_rule = (
    sa.select(AccessRule.id)
    .where(
        AccessRule.consumer_code == _consumer,
        AccessRule.certificate_type == _ct.c.code,
        sa.or_(AccessRule.item_id == _item, AccessRule.item_id.is_(None)),
        AccessRule.revoked_at.is_(None),
    )
    .limit(1)
    .scalar_subquery()
)
_consent = (
    sa.select(Consent.id)
    .where(
        Consent.subject_hash == sa.bindparam("subject_hash", type_=sa.String),
        Consent.certificate_type == _ct.c.code,
        sa.or_(Consent.consumer_code == _consumer, Consent.consumer_code.is_(None)),
        sa.or_(Consent.item_id == _item, Consent.item_id.is_(None)),
        sa.or_(
            Consent.case_number == sa.bindparam("case_number", type_=sa.String), Consent.case_number.is_(None)
        ),
        Consent.revoked_at.is_(None),
        sa.or_(Consent.expires_at.is_(None), Consent.expires_at > sa.bindparam("now", type_=UtcDateTime())),
    )
    .limit(1)
    .scalar_subquery()
)
_member = sa.select(Member.name).where(Member.code == _consumer).scalar_subquery()
_subsystem = (
    sa.select(Subsystem.code)
    .where(
        Subsystem.member_code == _consumer, Subsystem.client_id == sa.bindparam("client_id", type_=sa.String)
    )
    .scalar_subquery()
)
_certificate = cast(sa.Table, Certificate.__table__)
_subject_id = sa.bindparam("subject_id", type_=sa.String)
_known = sa.exists().where(_certificate.c.subject_id == _subject_id)
_HELD = ("id", "number", "issuer_code", "issued_on", "valid_until", "status", "holder_name", "fields")
# One row even when no type matches, so the consumer's membership is always answered.
_one = sa.select(sa.literal(1).label("one")).subquery()


def _context(match: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """Per type asked for: its catalogue entry, the rule and consent found, and each of the subject's
    certificates of that type (one row each); plus whether the subject has any certificate at all."""
    held = [_certificate.c[name].label(f"held_{name}") for name in _HELD]
    columns = [_member.label("member_name"), _subsystem.label("subsystem"), _known.label("subject_known")]
    joined = _one.outerjoin(_ct, match).outerjoin(
        _certificate,
        sa.and_(_certificate.c.subject_id == _subject_id, _certificate.c.certificate_type == _ct.c.code),
    )
    return sa.select(
        *columns, *_ct.columns, _rule.label("rule_id"), _consent.label("consent_id"), *held
    ).select_from(joined)


# An evidence request names one type: a plain parameter, cheaper to bind than an expanding IN.
CONTEXT_ONE = _context(_ct.c.code == sa.bindparam("type", type_=sa.String))
CONTEXT_MANY = _context(_ct.c.code.in_(sa.bindparam("types", expanding=True, type_=sa.String)))
