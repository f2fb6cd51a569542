"""HTTP routes of the directory: members, subsystems, the evidence catalogue, access rules."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from datashare.directory import service
from datashare.directory.schemas import (
    AccessRuleCreate,
    AccessRulePublic,
    CertificateTypePublic,
    CertificateTypeSpec,
    MemberCreate,
    MemberPublic,
    SubsystemCreate,
    SubsystemPublic,
)
from servicekit.auth import requires
from servicekit.deps import SessionDep
from servicekit.identity import Identity

router = APIRouter(tags=["datashare"])
Operator = [Depends(requires("admin"))]
Reader = Annotated[Identity, Depends(requires("datashare:request"))]
CodePath = Annotated[str, Path(max_length=40)]


@router.get("/members", response_model=list[MemberPublic], summary="Members and their subsystems")
async def list_members(session: SessionDep, _identity: Reader) -> list[MemberPublic]:
    return await service.list_members(session)


@router.post(
    "/members",
    status_code=status.HTTP_201_CREATED,
    response_model=MemberPublic,
    dependencies=Operator,
    summary="Register a member (consumer or provider) with its credit code",
)
async def register_member(body: MemberCreate, session: SessionDep) -> MemberPublic:
    return await service.register_member(session, body)


@router.post(
    "/members/{member_code}/subsystems",
    status_code=status.HTTP_201_CREATED,
    response_model=SubsystemPublic,
    dependencies=Operator,
    summary="Register a subsystem of a member",
)
async def add_subsystem(member_code: CodePath, body: SubsystemCreate, session: SessionDep) -> SubsystemPublic:
    return await service.add_subsystem(session, member_code, body)


@router.get(
    "/certificate-types", response_model=list[CertificateTypePublic], summary="The evidence catalogue"
)
async def list_certificate_types(session: SessionDep, _identity: Reader) -> list[CertificateTypePublic]:
    return await service.list_types(session)


@router.put(
    "/certificate-types/{code}",
    response_model=CertificateTypePublic,
    dependencies=Operator,
    summary="Define a catalogue entry: provider, fields, validity, trust level, consent, federated endpoint",
    responses={201: {"model": CertificateTypePublic, "description": "Created"}},
)
async def put_certificate_type(
    code: CodePath, spec: CertificateTypeSpec, session: SessionDep, response: Response
) -> CertificateTypePublic:
    """`code` is one of the shared certificate type codes (contracts.certificates). Setting
    `endpoint_url` registers a federated provider that datashare calls live with `timeout_ms`."""
    entry, created = await service.put_type(session, code, spec)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return entry


@router.get("/access-rules", response_model=list[AccessRulePublic], summary="Access rules in force")
async def list_access_rules(
    session: SessionDep,
    identity: Reader,
    consumer: Annotated[str | None, Query(max_length=40, description="Operators only")] = None,
    certificate_type: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AccessRulePublic]:
    """A member sees the rules that entitle it; operators see all."""
    rules = await service.list_rules(session, identity, consumer, certificate_type, limit)
    return [AccessRulePublic.model_validate(r) for r in rules]


@router.post(
    "/access-rules",
    status_code=status.HTTP_201_CREATED,
    response_model=AccessRulePublic,
    dependencies=Operator,
    summary="Entitle a consumer to a certificate type (for one item, or any)",
)
async def create_access_rule(body: AccessRuleCreate, session: SessionDep) -> AccessRulePublic:
    return AccessRulePublic.model_validate(await service.create_rule(session, body))


@router.post(
    "/access-rules/{rule_id}/revoke",
    response_model=AccessRulePublic,
    dependencies=Operator,
    summary="Revoke an access rule",
)
async def revoke_access_rule(
    rule_id: Annotated[str, Path(max_length=32)], session: SessionDep
) -> AccessRulePublic:
    return AccessRulePublic.model_validate(await service.revoke_rule(session, rule_id))
