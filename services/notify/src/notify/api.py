"""Notify HTTP routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from notify import service
from notify.schemas import MessagePublic
from servicekit.deps import SessionDep

router = APIRouter(tags=["notify"])


@router.get("/messages", response_model=list[MessagePublic], summary="Messages about one case")
async def messages_for_case(
    session: SessionDep, case_number: Annotated[str, Query(min_length=10, max_length=50)]
) -> list[MessagePublic]:
    return [MessagePublic.model_validate(m) for m in await service.messages_for_case(session, case_number)]
