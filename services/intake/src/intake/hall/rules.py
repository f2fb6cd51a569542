"""Who may do what in the hall, the problems the hall answers with, and writing its events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import EventData, new_event
from intake.hall.models import Ticket
from messaging.outbox import add_event
from servicekit.auth import forbidden
from servicekit.identity import Identity
from servicekit.logs import request_id_var
from servicekit.problems import Problem

SOURCE = "/intake"


def broken_rule(status: int, code: str, title: str, detail: str, field: str, rule: str) -> Problem:
    """A 4xx naming the field and the rule it broke; nothing was written."""
    return Problem(status, code, title, detail, errors=[{"field": field, "rule": rule, "message": detail}])


def conflict(code: str, detail: str, field: str, rule: str) -> Problem:
    return broken_rule(409, code, "状态冲突 Conflict", detail, field, rule)


def invalid(code: str, detail: str, field: str, rule: str) -> Problem:
    return broken_rule(422, code, "请求参数有误 Invalid request", detail, field, rule)


def own_id_number(identity: Identity, id_number: str | None) -> str | None:
    """A citizen acts for themselves only: their token's ID number, which a body may only repeat."""
    if identity.kind != "citizen":
        return id_number
    if id_number is not None and id_number != identity.citizen_id:
        raise forbidden(
            "只能为本人取号或预约 (a citizen acts for themselves; 代办 goes through the guide desk)"
        )
    return identity.citizen_id


def check_at_window(identity: Identity, window_code: str) -> None:
    """Calling and serving are done by the staff of that window, who answer for its figures."""
    if identity.kind != "staff" or identity.window != window_code:
        raise forbidden(f"只能由{window_code}号窗口的工作人员操作 (only the staff of window {window_code})")


def check_manages_window(identity: Identity, window_code: str) -> None:
    """Pausing and resuming: the window's staff, or an operator."""
    if identity.kind != "operator":
        check_at_window(identity, window_code)


def check_operator(identity: Identity) -> None:
    if identity.kind != "operator":
        raise forbidden("只有运维人员可以维护大厅 (only operators set up halls)")


def may_see_ticket(identity: Identity, ticket: Ticket) -> bool:
    if identity.kind == "citizen":
        return ticket.id_number is not None and ticket.id_number == identity.citizen_id
    return identity.kind in ("staff", "operator")


def may_see_person(identity: Identity, id_number: str) -> bool:
    if identity.kind == "citizen":
        return id_number == identity.citizen_id
    return identity.kind in ("staff", "operator")


async def emit(session: AsyncSession, event_type: str, subject: str, data: EventData) -> None:
    event = new_event(
        type=event_type, source=SOURCE, subject=subject, data=data, requestid=request_id_var.get()
    )
    await add_event(session, event)


@asynccontextmanager
async def unique_guard(code: str, detail: str, field: str, rule: str) -> AsyncIterator[None]:
    """Around a transaction: a concurrent writer won a uniqueness race; answer as the check would have."""
    try:
        yield
    except IntegrityError as exc:
        raise conflict(code, detail, field, rule) from exc
