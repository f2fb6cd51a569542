"""Directory use cases: register members and subsystems, maintain the evidence catalogue and the rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.certificates import CERTIFICATE_TYPES
from datashare.directory.schemas import (
    AccessRuleCreate,
    CertificateTypePublic,
    CertificateTypeSpec,
    MemberCreate,
    MemberPublic,
    SubsystemCreate,
    SubsystemPublic,
)
from datashare.models import AccessRule, CertificateType, Member, Subsystem
from servicekit.identity import Identity
from servicekit.problems import Problem, not_found


def conflict(detail: str) -> Problem:
    return Problem(409, "conflict", "数据冲突 Conflict", detail)


def invalid(field: str, rule: str, message: str) -> Problem:
    return Problem(
        422,
        "validation_failed",
        "请求参数有误 Invalid request",
        f"字段不符合要求 (invalid fields): {field}",
        errors=[{"field": field, "rule": rule, "message": message}],
    )


async def list_members(session: AsyncSession) -> list[MemberPublic]:
    members = (await session.scalars(sa.select(Member).order_by(Member.code))).all()
    subsystems = (await session.scalars(sa.select(Subsystem).order_by(Subsystem.code))).all()
    by_member: dict[str, list[SubsystemPublic]] = {}
    for s in subsystems:
        by_member.setdefault(s.member_code, []).append(SubsystemPublic.model_validate(s))
    return [
        MemberPublic(
            code=m.code,
            name=m.name,
            credit_code=m.credit_code,
            level=m.level,
            registered_at=m.registered_at,
            subsystems=by_member.get(m.code, []),
        )
        for m in members
    ]


async def _check_client_ids(session: AsyncSession, subsystems: list[SubsystemCreate]) -> None:
    client_ids = [s.client_id for s in subsystems if s.client_id is not None]
    if len(set(client_ids)) != len(client_ids):
        raise conflict("同一客户端不能对应多个子系统 (a client acts as one subsystem)")
    taken = await session.scalar(sa.select(Subsystem.client_id).where(Subsystem.client_id.in_(client_ids)))
    if taken is not None:
        raise conflict(f"客户端 {taken} 已对应其他子系统 (client already registered)")


async def register_member(session: AsyncSession, body: MemberCreate) -> MemberPublic:
    now = datetime.now(UTC)
    async with session.begin():
        if await session.get(Member, body.code) is not None:
            raise conflict(f"成员 {body.code} 已存在 (member exists)")
        if await session.scalar(sa.select(Member.code).where(Member.credit_code == body.credit_code)):
            raise conflict("该统一社会信用代码已登记 (credit code already registered)")
        if len({s.code for s in body.subsystems}) != len(body.subsystems):
            raise conflict("子系统编码重复 (duplicate subsystem code)")
        await _check_client_ids(session, body.subsystems)
        session.add(
            Member(
                code=body.code,
                name=body.name,
                credit_code=body.credit_code,
                level=body.level,
                registered_at=now,
            )
        )
        await session.flush()
        for s in body.subsystems:
            session.add(Subsystem(member_code=body.code, registered_at=now, **s.model_dump()))
    return next(m for m in await list_members(session) if m.code == body.code)


async def add_subsystem(session: AsyncSession, member_code: str, body: SubsystemCreate) -> SubsystemPublic:
    async with session.begin():
        if await session.get(Member, member_code) is None:
            raise not_found("成员 member", member_code)
        if await session.get(Subsystem, (member_code, body.code)) is not None:
            raise conflict(f"子系统 {body.code} 已存在 (subsystem exists)")
        await _check_client_ids(session, [body])
        subsystem = Subsystem(member_code=member_code, registered_at=datetime.now(UTC), **body.model_dump())
        session.add(subsystem)
    return SubsystemPublic.model_validate(subsystem)


def type_public(row: CertificateType) -> CertificateTypePublic:
    return CertificateTypePublic.model_validate(
        {
            **{col.name: getattr(row, col.name) for col in CertificateType.__table__.columns},
            "mode": "federated" if row.endpoint_url else "held",
        }
    )


async def list_types(session: AsyncSession) -> list[CertificateTypePublic]:
    rows = (await session.scalars(sa.select(CertificateType).order_by(CertificateType.code))).all()
    return [type_public(r) for r in rows]


async def put_type(
    session: AsyncSession, code: str, spec: CertificateTypeSpec
) -> tuple[CertificateTypePublic, bool]:
    """Create or replace a catalogue entry; codes are the shared ones of contracts.certificates."""
    if code not in CERTIFICATE_TYPES:
        raise not_found("证照类型 certificate type", code)
    async with session.begin():
        if await session.get(Member, spec.provider) is None:
            raise invalid("provider", "registered_member", f"unknown member {spec.provider}")
        values = {
            "name": CERTIFICATE_TYPES[code],
            "provider_code": spec.provider,
            "subject_kind": spec.subject_kind,
            "fields": [f.model_dump() for f in spec.fields],
            "validity": spec.validity,
            "max_age_days": spec.max_age_days,
            "trust_level": spec.trust_level,
            "consent_required": spec.consent_required,
            "endpoint_url": str(spec.endpoint_url) if spec.endpoint_url else None,
            "timeout_ms": spec.timeout_ms,
            "updated_at": datetime.now(UTC),
        }
        row = await session.get(CertificateType, code)
        created = row is None
        if row is None:
            row = CertificateType(code=code, **values)
            session.add(row)
        else:
            for key, value in values.items():
                setattr(row, key, value)
    return type_public(row), created


def _sees_all(identity: Identity) -> bool:
    return identity.kind == "operator" or identity.has("admin")


async def list_rules(
    session: AsyncSession, identity: Identity, consumer: str | None, certificate_type: str | None, limit: int
) -> list[AccessRule]:
    """Operators see every rule; a member sees the rules that entitle it."""
    if not _sees_all(identity):
        consumer = identity.department or identity.client_id
    query = (
        sa.select(AccessRule)
        .where(AccessRule.revoked_at.is_(None))
        .order_by(AccessRule.created_at)
        .limit(limit)
    )
    if consumer is not None:
        query = query.where(AccessRule.consumer_code == consumer)
    if certificate_type is not None:
        query = query.where(AccessRule.certificate_type == certificate_type)
    return list((await session.scalars(query)).all())


async def create_rule(session: AsyncSession, body: AccessRuleCreate) -> AccessRule:
    async with session.begin():
        if await session.get(Member, body.consumer) is None:
            raise invalid("consumer", "registered_member", f"unknown member {body.consumer}")
        if await session.get(CertificateType, body.certificate_type) is None:
            raise invalid(
                "certificate_type", "in_catalogue", f"not in the catalogue: {body.certificate_type}"
            )
        same = await session.scalar(
            sa.select(AccessRule.id).where(
                AccessRule.consumer_code == body.consumer,
                AccessRule.certificate_type == body.certificate_type,
                AccessRule.item_id.is_(None) if body.item_id is None else AccessRule.item_id == body.item_id,
                AccessRule.revoked_at.is_(None),
            )
        )
        if same is not None:
            raise conflict(f"相同的规则已存在 (the same rule exists: {same})")
        rule = AccessRule(
            id=uuid.uuid4().hex,
            consumer_code=body.consumer,
            certificate_type=body.certificate_type,
            item_id=body.item_id,
            item_version=None,
            source="manual",
            created_at=datetime.now(UTC),
            revoked_at=None,
        )
        session.add(rule)
    return rule


async def revoke_rule(session: AsyncSession, rule_id: str) -> AccessRule:
    async with session.begin():
        rule = await session.get(AccessRule, rule_id)
        if rule is None:
            raise not_found("规则 access rule", rule_id)
        if rule.revoked_at is None:
            rule.revoked_at = datetime.now(UTC)
    return rule
