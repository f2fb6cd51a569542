"""HTTP routes of consents: give, list, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from datashare.consent import service
from datashare.consent.schemas import ConsentCreate, ConsentPublic
from servicekit.auth import requires
from servicekit.deps import SessionDep
from servicekit.identity import Identity

router = APIRouter(tags=["datashare"])
Subject = Annotated[Identity, Depends(requires("datashare:read"))]


@router.post(
    "/consents",
    status_code=status.HTTP_201_CREATED,
    response_model=ConsentPublic,
    summary="Consent to share a certificate type (本人授权)",
)
async def give_consent(body: ConsentCreate, session: SessionDep, identity: Subject) -> ConsentPublic:
    """A citizen consents for themselves (the subject is their verified identity); an operator
    records a consent signed on paper at a window, naming the subject in the body."""
    return ConsentPublic.model_validate(await service.give(session, identity, body))


@router.get("/consents", response_model=list[ConsentPublic], summary="My consents")
async def list_consents(
    session: SessionDep, identity: Subject, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[ConsentPublic]:
    return [ConsentPublic.model_validate(c) for c in await service.list_own(session, identity, limit)]


@router.post("/consents/{consent_id}/revoke", response_model=ConsentPublic, summary="Revoke a consent")
async def revoke_consent(
    consent_id: Annotated[str, Path(max_length=32)], session: SessionDep, identity: Subject
) -> ConsentPublic:
    """Takes effect for the next request; earlier releases stay in the access log."""
    return ConsentPublic.model_validate(await service.revoke(session, identity, consent_id))
