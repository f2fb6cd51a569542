"""Checks of a submission that read but never write: idempotency, the ticket served, a cited 预审."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from intake.applications.access import may_see
from intake.applications.context import Context
from intake.applications.models import Precheck
from intake.applications.schemas import ItemRequest
from intake.hall.models import Ticket
from intake.hall.rules import conflict, invalid
from intake.models import Application, CatalogItem
from servicekit.identity import Identity


def fingerprint(body: Any) -> str:
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


def subject_hash(subject_id: str) -> str:
    return hashlib.sha256(subject_id.encode()).hexdigest()


async def replayed(
    session: AsyncSession, identity: Identity, model: Any, key: str | None, request_hash: str
) -> Any | None:
    """The earlier result of the same request under this Idempotency-Key; another request is refused."""
    if key is None:
        return None
    earlier = await session.scalar(sa.select(model).where(model.idempotency_key == key))
    if earlier is None:
        return None
    same_caller = not isinstance(earlier, Application) or may_see(identity, earlier)
    if not same_caller or earlier.request_hash not in (None, request_hash):
        raise conflict(
            "idempotency_key_reused",
            "幂等键已用于另一请求 (this Idempotency-Key was used for a different request: use a new key)",
            "Idempotency-Key",
            "one_request_per_key",
        )
    return earlier


async def check_ticket(
    session: AsyncSession, identity: Identity, ticket_id: str | None, channel: str
) -> None:
    """A window application names the ticket being served at that window (取号 → 受理 linked)."""
    if ticket_id is None:
        return
    ticket = await session.get(Ticket, ticket_id)
    if (
        channel != "window"
        or ticket is None
        or ticket.status != "serving"
        or (identity.kind == "staff" and ticket.window_code != identity.window)
    ):
        raise invalid(
            "ticket_not_serving",
            f"号 {ticket_id} 不是本窗口正在办理的号 (not the ticket being served at your window)",
            "ticket_id",
            "serving_at_your_window",
        )


async def cited_precheck(
    session: AsyncSession,
    ctx: Context,
    applicant_id: str,
    item: CatalogItem,
    request: ItemRequest,
    now: datetime,
    at: str,
) -> Precheck | None:
    if request.precheck_id is None:
        return None
    precheck = await session.get(Precheck, request.precheck_id)
    same = precheck is not None and (
        precheck.subject_hash,
        precheck.item_id,
        precheck.item_version,
        precheck.situation_code,
    ) == (subject_hash(applicant_id), item.item_id, item.version, request.situation_code)
    if precheck is None or not same:
        raise invalid(
            "precheck_mismatch",
            "预审不属于本申请人、事项版本或情形 (another subject or item)",
            at,
            "same_application",
        )
    if precheck.created_at + timedelta(hours=ctx.options.precheck_valid_hours) < now:
        raise invalid("precheck_expired", "预审已过期，请重新预审 (pre-check again)", at, "fresh_precheck")
    return precheck
