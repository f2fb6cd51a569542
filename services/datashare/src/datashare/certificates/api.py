"""HTTP routes of held certificates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from datashare.certificates import service
from datashare.certificates.schemas import (
    CertificateCreate,
    CertificatePublic,
    CertificateRevoke,
    CertificateSearch,
)
from servicekit.auth import requires
from servicekit.deps import SessionDep
from servicekit.identity import Identity

router = APIRouter(tags=["datashare"])
Issuer = Annotated[Identity, Depends(requires("backoffice:decide"))]
Holder = Annotated[Identity, Depends(requires("datashare:read"))]
IdPath = Annotated[str, Path(max_length=40)]


@router.get("/certificates/{certificate_id}", response_model=CertificatePublic)
async def get_certificate(certificate_id: IdPath, session: SessionDep, identity: Holder) -> CertificatePublic:
    """The holder, the issuing department and operators see a certificate; others get 404."""
    return CertificatePublic.model_validate(await service.get_certificate(session, identity, certificate_id))


@router.post(
    "/certificates",
    status_code=status.HTTP_201_CREATED,
    response_model=CertificatePublic,
    summary="Register a held copy of a certificate the caller issued",
)
async def register_certificate(
    body: CertificateCreate, session: SessionDep, identity: Issuer
) -> CertificatePublic:
    """The caller's department must be the provider of the type in the evidence catalogue;
    `datashare.certificate.registered` is published in the same transaction."""
    return CertificatePublic.model_validate(await service.register(session, identity, body))


@router.post(
    "/certificates/{certificate_id}/revoke",
    response_model=CertificatePublic,
    summary="Revoke a certificate (吊销/注销): it is no longer shared",
)
async def revoke_certificate(
    certificate_id: IdPath, body: CertificateRevoke, session: SessionDep, identity: Issuer
) -> CertificatePublic:
    return CertificatePublic.model_validate(
        await service.revoke(session, identity, certificate_id, body.reason)
    )


@router.post(
    "/certificates/search",
    response_model=list[CertificatePublic],
    summary="My certificates (a subject's, by POST: ID numbers never go in URLs)",
)
async def search_certificates(
    body: CertificateSearch, session: SessionDep, identity: Holder
) -> list[CertificatePublic]:
    return [CertificatePublic.model_validate(c) for c in await service.search(session, identity, body)]
