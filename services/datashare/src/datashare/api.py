"""Datashare HTTP routes (evidence requests, access rules and the access log arrive with issue 5)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from datashare import service
from datashare.schemas import CertificatePublic
from servicekit.auth import requires
from servicekit.deps import SessionDep
from servicekit.identity import Identity

router = APIRouter(tags=["datashare"])


@router.get("/certificates/{certificate_id}", response_model=CertificatePublic)
async def get_certificate(
    certificate_id: Annotated[str, Path(max_length=40)],
    session: SessionDep,
    identity: Annotated[Identity, Depends(requires("datashare:read"))],
) -> CertificatePublic:
    return CertificatePublic.model_validate(await service.get_certificate(session, identity, certificate_id))
