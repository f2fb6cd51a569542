"""Reading the access log: a consumer's own requests, a subject's view, verification of the chain."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.certificates import CERTIFICATE_TYPES
from datashare.accesslog.chain import verify
from datashare.accesslog.schemas import SubjectAccess, SubjectLog, SubjectQuery, VerifyReport
from datashare.models import AccessLogEntry, Member
from datashare.signing import Signer
from datashare.subjects import InvalidSubject, mask_subject, parse_subject, subject_hash
from servicekit.auth import forbidden
from servicekit.identity import Identity
from servicekit.problems import Problem, not_found


def _sees_all(identity: Identity) -> bool:
    return identity.kind == "operator" or identity.has("admin")


async def list_entries(
    session: AsyncSession,
    identity: Identity,
    consumer: str | None,
    outcome: str | None,
    before: int | None,
    limit: int,
) -> list[AccessLogEntry]:
    """Operators see every entry; a member sees the requests it made."""
    query = sa.select(AccessLogEntry).order_by(AccessLogEntry.seq.desc()).limit(limit)
    if not _sees_all(identity):
        consumer = identity.department or identity.client_id
    if consumer is not None:
        query = query.where(AccessLogEntry.consumer_code == consumer)
    if outcome is not None:
        query = query.where(AccessLogEntry.outcome == outcome)
    if before is not None:
        query = query.where(AccessLogEntry.seq < before)
    return list((await session.scalars(query)).all())


async def get_entry(session: AsyncSession, identity: Identity, request_id: str) -> AccessLogEntry:
    entry = await session.scalar(sa.select(AccessLogEntry).where(AccessLogEntry.id == request_id))
    own = identity.department or identity.client_id
    if entry is None or not (_sees_all(identity) or entry.consumer_code == own):
        raise not_found("请求 evidence request", request_id)
    return entry


def _subject_of(identity: Identity, query: SubjectQuery) -> str:
    """A citizen sees only their own log (the gateway vouches for citizen_id); operators any."""
    if identity.kind == "citizen":
        if identity.citizen_id is None:
            raise forbidden("身份凭证缺少身份证号码 (the citizen identity carries no citizen_id)")
        if query.subject_id is not None and query.subject_id.strip().upper() != identity.citizen_id.upper():
            raise forbidden("只能查看本人的数据访问记录 (a citizen sees only their own log)")
        return identity.citizen_id
    if not _sees_all(identity):
        raise forbidden("只有本人或运维人员可以查看 (only the subject or an operator)")
    if query.subject_id is None:
        raise Problem(
            422,
            "validation_failed",
            "请求参数有误 Invalid request",
            "请提供 subject_id (name the subject)",
            errors=[{"field": "subject_id", "rule": "required", "message": "name the subject"}],
        )
    try:
        return parse_subject(query.subject_id).id
    except InvalidSubject as exc:
        raise Problem(
            422,
            "invalid_subject",
            "主体编号无效 Invalid subject",
            str(exc),
            errors=[{"field": "subject_id", "rule": "gb11643_or_gb32100", "message": str(exc)}],
        ) from None


async def subject_view(session: AsyncSession, identity: Identity, query: SubjectQuery) -> SubjectLog:
    subject = _subject_of(identity, query)
    rows = (
        await session.execute(
            sa.select(AccessLogEntry, Member.name)
            .outerjoin(Member, Member.code == AccessLogEntry.consumer_code)
            .where(AccessLogEntry.subject_hash == subject_hash(subject))
            .order_by(AccessLogEntry.seq.desc())
            .limit(query.limit)
        )
    ).all()
    entries = []
    for entry, member_name in rows:
        types = [t for t in entry.certificate_type.split(",") if t]
        entries.append(
            SubjectAccess(
                at=entry.at,
                consumer_code=entry.consumer_code,
                consumer_name=member_name,
                certificate_types=types,
                certificate_names=[CERTIFICATE_TYPES.get(t, t) for t in types],
                kind=entry.kind,
                case_number=entry.case_number,
                item_id=entry.item_id,
                outcome=entry.outcome,
                reason=entry.reason,
            )
        )
    return SubjectLog(subject_mask=mask_subject(subject), entries=entries)


async def verify_log(session: AsyncSession, signer: Signer) -> VerifyReport:
    verdict = await verify(session)
    checkpoint = {
        "head_seq": verdict.head_seq,
        "head_hash": verdict.head_hash.hex(),
        "verified_at": datetime.now(UTC).isoformat(),
        "ok": verdict.ok,
    }
    return VerifyReport(
        ok=verdict.ok,
        checked=verdict.checked,
        head_seq=verdict.head_seq,
        head_hash=verdict.head_hash.hex(),
        first_broken_seq=verdict.broken_seq,
        reason=verdict.reason,
        head_signature=signer.sign(checkpoint),
    )
