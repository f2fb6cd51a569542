"""HTTP routes of evidence requests, material resolution and the published signing keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, status

from datashare.deps import BrokerDep, SignerDep
from datashare.evidence import resolution, service
from datashare.evidence.schemas import (
    EvidencePublic,
    EvidenceRequestCreate,
    Jwk,
    KeySet,
    ResolutionCreate,
    ResolutionPublic,
)
from datashare.signing import published_keys
from servicekit.auth import requires
from servicekit.deps import SessionDep
from servicekit.identity import Identity
from servicekit.problems import PROBLEM_JSON

router = APIRouter(tags=["datashare"])
Requester = Annotated[Identity, Depends(requires("datashare:request"))]
_PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
PROVIDER_ERRORS: dict[int | str, dict[str, Any]] = {
    502: {
        "description": "提供方不可用或应答无效 provider_unavailable / provider_bad_answer",
        "content": _PROBLEM,
    },
    504: {"description": "提供方超时 provider_timeout", "content": _PROBLEM},
}


@router.post(
    "/evidence-requests",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidencePublic,
    responses=PROVIDER_ERRORS,
    summary="Request a certificate about a subject (数据共享调用)",
)
async def request_evidence(
    body: EvidenceRequestCreate, identity: Requester, broker: BrokerDep
) -> EvidencePublic:
    """Access rules decide (consumer × certificate type × item), then consent where the type needs
    it, then the certificate's validity; a federated provider is asked live within its timeout.
    Every request, granted or refused, is appended to the hash-chained access log first. A refusal
    is a problem with a distinct `code` (unknown_consumer, consumer_mismatch, consumer_missing,
    purpose_missing, officer_missing, invalid_subject, unknown_certificate_type, no_access_rule,
    consent_required, unknown_subject, certificate_not_found, certificate_expired,
    certificate_revoked, provider_timeout, provider_unavailable, provider_bad_answer) and the
    `X-Evidence-Request-Id` header naming its log entry.
    """
    return await service.request_evidence(broker.engine, identity, body, broker.providers, broker.signer)


@router.post(
    "/resolutions",
    response_model=ResolutionPublic,
    responses=PROVIDER_ERRORS,
    summary="Which materials datashare supplies now, which the applicant brings (一证通办)",
)
async def resolve_materials(
    body: ResolutionCreate, identity: Requester, broker: BrokerDep
) -> ResolutionPublic:
    """The one synchronous call intake makes: for the material pre-check (材料预审) and 一证通办.

    Send the item version's materials as published (name, required, certificate_type) and the
    applicant. Each material comes back with `supply` = `datashare` (fetched at acceptance, nothing
    to submit) or `applicant` (bring or upload it) and a `reason`: `available`,
    `identity_document` (the ID card is shown, never fetched), `no_certificate_type`,
    `other_subject`, or the refusal code an evidence request would get now (e.g.
    `consent_required`, `certificate_expired`, `provider_timeout`). `one_certificate` is true
    when only the ID card remains. Nothing is released; the check itself is logged, so the citizen
    sees it. The caller must be a registered member (intake acts as member `intake`).
    """
    return await resolution.resolve(broker.engine, identity, body, broker.providers)


@router.get(
    "/keys",
    response_model=KeySet,
    summary="Public keys that sign evidence (JWKS)",
    dependencies=[Depends(requires("datashare:request"))],
)
async def signing_keys(session: SessionDep, signer: SignerDep) -> KeySet:
    """Ed25519 keys as a JWK Set (RFC 8037); retired keys stay listed so old answers still verify."""
    keys = [Jwk.model_validate(k) for k in await published_keys(session)]
    return KeySet(keys=keys, current_kid=signer.kid)
