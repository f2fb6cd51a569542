"""Datashare HTTP routes (evidence requests, access rules and the access log arrive with issue 5)."""

from __future__ import annotations

from fastapi import APIRouter

from datashare import service
from datashare.schemas import CertificatePublic
from servicekit.deps import SessionDep

router = APIRouter(tags=["datashare"])


@router.get("/certificates/{certificate_id}", response_model=CertificatePublic)
async def get_certificate(certificate_id: str, session: SessionDep) -> CertificatePublic:
    return CertificatePublic.model_validate(await service.get_certificate(session, certificate_id))
