"""Provider callbacks: Kannel calls its dlr-url here directly (never through the gateway).

No gateway identity: each attempt's delivery-report URL carries its own random secret instead.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from notify import service
from notify.clock import Clock
from notify.lifecycle import RetryPolicy
from servicekit.deps import SessionDep

router = APIRouter(tags=["callbacks"])


class ReportAck(BaseModel):
    message_id: str
    status: str


@router.get("/callbacks/kannel/{message_id}", response_model=ReportAck, summary="Kannel delivery report")
async def kannel_delivery_report(
    message_id: Annotated[str, Path(min_length=1, max_length=40)],
    token: Annotated[str, Query(min_length=16, max_length=100)],
    session: SessionDep,
    request: Request,
    type: Annotated[int, Query(ge=0, le=255, description="Kannel DLR type (%d)")],
    reference: Annotated[str | None, Query(max_length=200, description="SMSC message id (%F)")] = None,
    reply: Annotated[str, Query(max_length=1000, description="SMSC report text (%A)")] = "",
) -> ReportAck:
    clock: Clock = request.app.state.clock
    policy: RetryPolicy = request.app.state.retry_policy
    message = await service.delivery_report(
        session, message_id, token, type, reference, reply, clock(), policy
    )
    return ReportAck(message_id=message.id, status=message.status)
