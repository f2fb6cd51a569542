"""Notify HTTP routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from notify import service
from notify.schemas import MessagePublic
from servicekit.auth import requires
from servicekit.deps import SessionDep
from servicekit.identity import Identity

router = APIRouter(tags=["notify"])


@router.get("/messages", response_model=list[MessagePublic], summary="Messages about one case")
async def messages_for_case(
    session: SessionDep,
    identity: Annotated[Identity, Depends(requires("notify:read"))],
    case_number: Annotated[str, Query(min_length=10, max_length=50)],
) -> list[MessagePublic]:
    messages = await service.messages_for_case(session, identity, case_number)
    return [MessagePublic.model_validate(m) for m in messages]
