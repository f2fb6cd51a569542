"""Intake HTTP routes of the item read model (the hall and applications have their own routers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from intake import service
from intake.schemas import ItemView
from servicekit.auth import requires
from servicekit.deps import SessionDep

router = APIRouter(tags=["intake"])


@router.get(
    "/items/{item_id}",
    response_model=ItemView,
    summary="The item as intake knows it",
    dependencies=[Depends(requires("catalog:read"))],
)
async def get_item(item_id: Annotated[str, Path(max_length=40)], session: SessionDep) -> ItemView:
    return ItemView.model_validate(await service.get_item(session, item_id))
