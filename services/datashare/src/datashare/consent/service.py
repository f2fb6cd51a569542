"""Consent use cases: a citizen gives and revokes their own; operators record consent given on paper."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from datashare.clock import CHINA
from datashare.consent.schemas import ConsentCreate
from datashare.directory.service import invalid
from datashare.models import CertificateType, Consent, Member
from datashare.subjects import InvalidSubject, parse_subject, subject_hash
from servicekit.auth import forbidden
from servicekit.identity import Identity
from servicekit.masking import mask_id
from servicekit.problems import not_found


def _subject(identity: Identity, named: str | None) -> str:
    if identity.kind == "citizen":
        own = (identity.citizen_id or "").upper()
        if not own or (named is not None and named.strip().upper() != own):
            raise forbidden("只能为本人授权 (a citizen consents for themselves)")
        return own
    if identity.kind != "operator":
        raise forbidden(
            "只有本人或运维人员可以登记授权 (only the subject, or an operator for a paper consent)"
        )
    if named is None:
        raise invalid("subject_id", "required", "name the subject who consented")
    try:
        return parse_subject(named).id
    except InvalidSubject as exc:
        raise invalid("subject_id", "gb11643_or_gb32100", str(exc)) from None


async def give(session: AsyncSession, identity: Identity, body: ConsentCreate) -> Consent:
    subject = _subject(identity, body.subject_id)
    now = datetime.now(UTC)
    expires_at = None
    if body.expires_on is not None:
        expires_at = datetime.combine(body.expires_on + timedelta(days=1), time(), tzinfo=CHINA)
        if expires_at <= now:
            raise invalid("expires_on", "future", "must not be in the past")
    async with session.begin():
        if await session.get(CertificateType, body.certificate_type) is None:
            raise invalid(
                "certificate_type", "in_catalogue", f"not in the catalogue: {body.certificate_type}"
            )
        if body.consumer is not None and await session.get(Member, body.consumer) is None:
            raise invalid("consumer", "registered_member", f"unknown member {body.consumer}")
        consent = Consent(
            id=uuid.uuid4().hex,
            subject_hash=subject_hash(subject),
            subject_mask=mask_id(subject),
            certificate_type=body.certificate_type,
            consumer_code=body.consumer,
            item_id=body.item_id,
            case_number=body.case_number,
            given_by=identity.client_id[:100],
            given_at=now,
            expires_at=expires_at,
            revoked_at=None,
        )
        session.add(consent)
    return consent


async def list_own(session: AsyncSession, identity: Identity, limit: int) -> list[Consent]:
    """A citizen's consents (their subject comes from the identity); operators see the latest."""
    query = sa.select(Consent).order_by(Consent.given_at.desc()).limit(limit)
    if identity.kind == "citizen":
        query = query.where(Consent.subject_hash == subject_hash(identity.citizen_id or ""))
    elif identity.kind != "operator":
        raise forbidden("只有本人或运维人员可以查看授权 (only the subject or an operator)")
    return list((await session.scalars(query)).all())


def _may_manage(identity: Identity, consent: Consent) -> bool:
    if identity.kind == "operator":
        return True
    return identity.kind == "citizen" and consent.subject_hash == subject_hash(identity.citizen_id or "")


async def revoke(session: AsyncSession, identity: Identity, consent_id: str) -> Consent:
    """Revoking takes effect for the next request; what was released before stays in the log."""
    async with session.begin():
        consent = await session.get(Consent, consent_id)
        if consent is None or not _may_manage(identity, consent):
            raise not_found("授权 consent", consent_id)
        if consent.revoked_at is None:
            consent.revoked_at = datetime.now(UTC)
    return consent
