"""Intake HTTP routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Response, status

from intake import service
from intake.schemas import ApplicationCreate, ApplicationPublic, ItemView
from servicekit.auth import requires
from servicekit.deps import SessionDep
from servicekit.identity import Identity

router = APIRouter(tags=["intake"])


@router.post("/applications", status_code=status.HTTP_201_CREATED, response_model=ApplicationPublic)
async def submit_application(
    body: ApplicationCreate,
    session: SessionDep,
    response: Response,
    identity: Annotated[Identity, Depends(requires("intake:apply"))],
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> ApplicationPublic:
    application, created = await service.submit_application(session, identity, body, idempotency_key)
    if not created:
        response.status_code = status.HTTP_200_OK
    return ApplicationPublic.model_validate(application)


@router.get("/applications/{application_id}", response_model=ApplicationPublic)
async def get_application(
    application_id: Annotated[str, Path(max_length=40)],
    session: SessionDep,
    identity: Annotated[Identity, Depends(requires("intake:read"))],
) -> ApplicationPublic:
    return ApplicationPublic.model_validate(await service.get_application(session, identity, application_id))


@router.get(
    "/items/{item_id}",
    response_model=ItemView,
    summary="The item as intake knows it",
    dependencies=[Depends(requires("catalog:read"))],
)
async def get_item(item_id: Annotated[str, Path(max_length=40)], session: SessionDep) -> ItemView:
    return ItemView.model_validate(await service.get_item(session, item_id))
