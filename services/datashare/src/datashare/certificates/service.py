"""Certificate use cases: register a held copy, revoke it, expire it, show it to its holder."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.datashare import CertificateExpired, CertificateRegistered, CertificateRevoked
from contracts.envelope import EventData, new_event
from datashare.certificates.schemas import CertificateCreate, CertificateSearch
from datashare.directory.service import conflict, invalid
from datashare.models import Certificate, CertificateType
from datashare.subjects import InvalidSubject, parse_subject
from messaging.outbox import add_event
from servicekit.auth import forbidden
from servicekit.identity import Identity
from servicekit.logs import request_id_var
from servicekit.problems import not_found

SOURCE = "/datashare"


def may_see(identity: Identity, certificate: Certificate) -> bool:
    """The holder, the issuing department, operators; other departments use evidence requests."""
    if identity.kind == "operator":
        return True
    if identity.kind == "citizen":
        return identity.citizen_id == certificate.subject_id
    return identity.department is not None and identity.department == certificate.issuer_code


async def get_certificate(session: AsyncSession, identity: Identity, certificate_id: str) -> Certificate:
    certificate = await session.get(Certificate, certificate_id)
    # Another holder's certificate answers like a missing one: ids cannot be probed.
    if certificate is None or not may_see(identity, certificate):
        raise not_found("证照 certificate", certificate_id)
    return certificate


async def _emit(session: AsyncSession, certificate: Certificate, type_name: str, data: EventData) -> None:
    event = new_event(
        type=type_name, source=SOURCE, subject=certificate.id, data=data, requestid=request_id_var.get()
    )
    await add_event(session, event)


async def add_held(session: AsyncSession, certificate: Certificate) -> None:
    """Store a certificate and announce it, inside the caller's transaction."""
    session.add(certificate)
    registered = CertificateRegistered(
        certificate_id=certificate.id,
        certificate_type=certificate.certificate_type,
        number=certificate.number,
        subject_id=certificate.subject_id,
        issuer_code=certificate.issuer_code,
        issued_on=certificate.issued_on,
        valid_until=certificate.valid_until,
    )
    await _emit(session, certificate, "datashare.certificate.registered", registered)


def _issuer(identity: Identity, named: str | None) -> str:
    if identity.kind == "operator":
        if named is None:
            raise invalid("issuer", "required", "operators name the issuing member")
        return named
    if identity.department is None or (named is not None and named != identity.department):
        raise forbidden("只有发证部门可以登记本部门的证照 (an issuer registers its own certificates)")
    return identity.department


async def register(session: AsyncSession, identity: Identity, body: CertificateCreate) -> Certificate:
    issuer = _issuer(identity, body.issuer)
    try:
        subject = parse_subject(body.subject_id)
    except InvalidSubject as exc:
        raise invalid("subject_id", "gb11643_or_gb32100", str(exc)) from None
    async with session.begin():
        kind = await session.get(CertificateType, body.certificate_type)
        if kind is None:
            raise invalid(
                "certificate_type", "in_catalogue", f"not in the catalogue: {body.certificate_type}"
            )
        if identity.kind != "operator" and kind.provider_code != issuer:
            raise forbidden(f"{kind.name}由{kind.provider_code}提供 (only the type's provider registers it)")
        if subject.kind != kind.subject_kind:
            raise invalid("subject_id", "subject_kind", f"{kind.name} is about a {kind.subject_kind}")
        if kind.validity == "fixed_term" and body.valid_until is None:
            raise invalid("valid_until", "required", f"{kind.name} has a fixed term")
        declared = {f["name"] for f in kind.fields}
        unknown = sorted(set(body.fields) - declared)
        if unknown:
            raise invalid("fields", "declared", f"not declared for {kind.code}: {', '.join(unknown)}")
        taken = await session.scalar(
            sa.select(Certificate.id).where(
                Certificate.certificate_type == kind.code, Certificate.number == body.number
            )
        )
        if taken is not None:
            raise conflict(f"证照编号 {body.number} 已登记 (already registered)")
        certificate = Certificate(
            id=uuid.uuid4().hex,
            certificate_type=kind.code,
            number=body.number,
            subject_id=subject.id,
            issuer_code=issuer,
            issued_on=body.issued_on,
            valid_until=body.valid_until,
            status="valid",
            registered_at=datetime.now(UTC),
            holder_name=body.holder_name,
            fields=body.fields,
        )
        await add_held(session, certificate)
    return certificate


async def revoke(session: AsyncSession, identity: Identity, certificate_id: str, reason: str) -> Certificate:
    async with session.begin():
        certificate = await session.get(Certificate, certificate_id)
        if certificate is None or not (
            identity.kind == "operator" or identity.department == certificate.issuer_code
        ):
            raise not_found("证照 certificate", certificate_id)
        if certificate.status == "revoked":
            return certificate
        now = datetime.now(UTC)
        certificate.status, certificate.status_changed_at, certificate.status_reason = "revoked", now, reason
        revoked = CertificateRevoked(
            certificate_id=certificate.id,
            certificate_type=certificate.certificate_type,
            number=certificate.number,
            subject_id=certificate.subject_id,
            issuer_code=certificate.issuer_code,
            reason=reason,
            revoked_at=now,
        )
        await _emit(session, certificate, "datashare.certificate.revoked", revoked)
    return certificate


async def expire_due(session: AsyncSession, today: date, batch: int = 500) -> int:
    """Mark valid certificates past their date expired, one event each (the worker runs this daily)."""
    async with session.begin():
        due = (
            await session.scalars(
                sa.select(Certificate)
                .where(Certificate.status == "valid", Certificate.valid_until < today)
                .order_by(Certificate.valid_until)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ).all()
        now = datetime.now(UTC)
        for certificate in due:
            assert certificate.valid_until is not None
            certificate.status, certificate.status_changed_at = "expired", now
            certificate.status_reason = "有效期届满 (validity ended)"
            expired = CertificateExpired(
                certificate_id=certificate.id,
                certificate_type=certificate.certificate_type,
                number=certificate.number,
                subject_id=certificate.subject_id,
                issuer_code=certificate.issuer_code,
                valid_until=certificate.valid_until,
                expired_at=now,
            )
            await _emit(session, certificate, "datashare.certificate.expired", expired)
    return len(due)


async def search(session: AsyncSession, identity: Identity, body: CertificateSearch) -> list[Certificate]:
    """A citizen's own certificates; operators name the subject. Departments use evidence requests."""
    if identity.kind == "citizen":
        if (
            body.subject_id is not None
            and body.subject_id.strip().upper() != (identity.citizen_id or "").upper()
        ):
            raise forbidden("只能查看本人的证照 (a citizen sees only their own certificates)")
        subject = identity.citizen_id or ""
    elif identity.kind == "operator":
        if body.subject_id is None:
            raise invalid("subject_id", "required", "name the subject")
        subject = body.subject_id.strip().upper()
    else:
        raise forbidden("部门请通过数据共享请求获取证照 (departments use evidence requests)")
    query = (
        sa.select(Certificate).where(Certificate.subject_id == subject).order_by(Certificate.issued_on.desc())
    )
    return list((await session.scalars(query)).all())
