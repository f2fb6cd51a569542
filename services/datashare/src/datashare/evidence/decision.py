"""Deciding a request: is the consumer a member, may it get the type, did the subject consent, is it valid."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from datashare.evidence.queries import CONTEXT_MANY, CONTEXT_ONE
from datashare.models import Subsystem
from datashare.subjects import Subject
from servicekit.identity import Identity


@dataclass(frozen=True)
class Held:
    """A certificate as evidence: a held copy, or what a federated provider answered."""

    certificate_type: str
    number: str
    subject_id: str
    issuer_code: str
    issued_on: date
    valid_until: date | None
    status: str
    holder_name: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class TypeView:
    """A catalogue entry with the verdicts that depend on who asks: the rule and the consent found."""

    code: str
    name: str
    provider_code: str
    subject_kind: str
    validity: str
    max_age_days: int | None
    trust_level: str
    consent_required: bool
    endpoint_url: str | None
    timeout_ms: int
    rule_id: str | None
    consent_id: str | None


@dataclass(frozen=True)
class Context:
    member_name: str | None  # None: the consumer is not a registered member
    subsystem: str | None
    types: dict[str, TypeView]
    certificates: list[Held]  # the subject's, of the types asked for
    subject_known: bool  # datashare holds some certificate about the subject


def consumer_of(identity: Identity, named: str | None) -> tuple[str, str | None]:
    """(consumer code, refusal code): operators name the member they act for, others are their own."""
    own = identity.department or identity.client_id
    if identity.kind == "operator":
        return (named, None) if named else (identity.client_id, "consumer_missing")
    if named is not None and named != own:
        return own, "consumer_mismatch"
    return own, None


async def member_of_client(conn: AsyncConnection, client_id: str) -> str | None:
    """A system client without a department (the intake service) acts as the member of its subsystem."""
    query = sa.select(Subsystem.member_code).where(Subsystem.client_id == client_id)
    member: str | None = await conn.scalar(query)
    return member


async def load_context(
    conn: AsyncConnection,
    *,
    consumer: str,
    client_id: str,
    subject: Subject | None,
    item_id: str | None,
    case_number: str | None,
    type_codes: list[str],
) -> Context:
    """Everything the decision needs in one round trip: catalogue, rule, consent, certificates."""
    params = {
        "consumer": consumer,
        "client_id": client_id,
        "item_id": item_id,
        "case_number": case_number,
        "subject_hash": subject.hash if subject else "",
        "subject_id": subject.id if subject else "",
        "now": datetime.now(UTC),
    }
    if len(type_codes) == 1:
        rows = (await conn.execute(CONTEXT_ONE, {**params, "type": type_codes[0]})).all()
    else:
        rows = (await conn.execute(CONTEXT_MANY, {**params, "types": type_codes})).all()
    types = {r.code: _type_view(r) for r in rows if r.code is not None}
    certificates = [_held(r, subject.id) for r in rows if subject is not None and r.held_id is not None]
    first = rows[0]
    return Context(first.member_name, first.subsystem, types, certificates, bool(first.subject_known))


def _type_view(row: Any) -> TypeView:
    names = TypeView.__dataclass_fields__
    return TypeView(**{name: getattr(row, name) for name in names})


def _held(row: Any, subject_id: str) -> Held:
    fields = {str(k): str(v) for k, v in (row.held_fields or {}).items()}
    return Held(
        certificate_type=row.code,
        number=row.held_number,
        subject_id=subject_id,
        issuer_code=row.held_issuer_code,
        issued_on=row.held_issued_on,
        valid_until=row.held_valid_until,
        status=row.held_status,
        holder_name=row.held_holder_name,
        fields=fields,
        id=row.held_id,
    )


def validity_problem(certificate: Held, kind: TypeView, today: date) -> str | None:
    if certificate.status == "revoked":
        return "certificate_revoked"
    if certificate.status == "expired" or (
        certificate.valid_until is not None and certificate.valid_until < today
    ):
        return "certificate_expired"
    # Proofs such as 社保参保证明 are only current for a while after they were issued.
    if kind.max_age_days is not None and certificate.issued_on + timedelta(days=kind.max_age_days) < today:
        return "certificate_expired"
    return None


def pick(candidates: list[Held], kind: TypeView, today: date) -> tuple[Held | None, str | None]:
    """The newest usable certificate, or the reason the newest one is not usable."""
    ordered = sorted(candidates, key=lambda c: c.issued_on, reverse=True)
    for certificate in ordered:
        if validity_problem(certificate, kind, today) is None:
            return certificate, None
    return None, validity_problem(ordered[0], kind, today)


@dataclass(frozen=True)
class Assessment:
    reason: str | None
    kind: TypeView | None = None
    certificate: Held | None = None

    @property
    def federated(self) -> bool:
        return self.reason is None and self.kind is not None and self.kind.endpoint_url is not None


def assess(context: Context, type_code: str, subject: Subject, today: date) -> Assessment:
    """Rules in the order a refusal is reported; a federated type stops before the certificate."""
    if context.member_name is None:
        return Assessment("unknown_consumer")
    kind = context.types.get(type_code)
    if kind is None:
        return Assessment("unknown_certificate_type")
    if kind.subject_kind != subject.kind:
        return Assessment("invalid_subject", kind)
    if kind.rule_id is None:
        return Assessment("no_access_rule", kind)
    if kind.consent_required and kind.consent_id is None:
        return Assessment("consent_required", kind)
    if kind.endpoint_url is not None:
        return Assessment(None, kind)
    candidates = [c for c in context.certificates if c.certificate_type == type_code]
    if not candidates:
        return Assessment("certificate_not_found" if context.subject_known else "unknown_subject", kind)
    certificate, problem = pick(candidates, kind, today)
    return Assessment(problem, kind, certificate)
