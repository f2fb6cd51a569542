"""The dispatcher's statements: claim due messages and record outcomes, a batch per statement.

Plain SQL expressions built once (no ORM unit of work): the dispatcher moves hundreds of
messages a second, and per-row ORM bookkeeping cost more CPU than the SMTP hand-off itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from functools import cache
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from notify.channels import TEMPORARY_FAILURE
from notify.models import Contact, Message

_MESSAGE = cast(sa.Table, Message.__table__)
_CONTACT = cast(sa.Table, Contact.__table__)
_M = _MESSAGE.c
_C = _CONTACT.c
DUE_STATUSES = ("created", TEMPORARY_FAILURE)


@dataclass
class Delivery:
    """A message being sent: what the channel needs and what the lifecycle moves."""

    id: str
    channel: str
    status: str
    reason: str | None
    provider_reference: str | None
    case_number: str | None
    template: str
    template_version: int
    attempts: int
    next_attempt_at: datetime | None
    completed_at: datetime | None
    recipient_id: str = ""
    urgent: bool = False
    address: str | None = None
    title: str | None = None
    body: str = ""
    html: str | None = None
    quiet: tuple[time, time] | None = None
    # The status it was claimed from: a job never sent (shutdown) goes back to it.
    was: str = "created"
    # This attempt's secret in the provider's callback URL (SMS delivery reports); only its hash is kept.
    callback_token: str | None = None


_STATE = (
    _M.id,
    _M.channel,
    _M.status,
    _M.reason,
    _M.provider_reference,
    _M.case_number,
    _M.template,
    _M.template_version,
    _M.attempts,
    _M.next_attempt_at,
    _M.completed_at,
)
_CONTENT = (_M.recipient_id, _M.urgent, _M.address, _M.title, _M.body, _M.html)


def _claim_query(dialect: str) -> sa.Select[Any]:
    # Quiet hours matter only for non-urgent SMS: join the contact book for those rows alone.
    quiet_of = sa.and_(_C.owner_id == _M.recipient_id, _M.channel == "sms", sa.not_(_M.urgent))
    query = (
        sa.select(*_STATE, *_CONTENT, _C.quiet_start, _C.quiet_end)
        .select_from(_MESSAGE.outerjoin(_CONTACT, quiet_of))
        .where(
            _M.status.in_(DUE_STATUSES),
            _M.next_attempt_at <= sa.bindparam("now", type_=_M.next_attempt_at.type),
        )
        .order_by(_M.next_attempt_at)
        .limit(sa.bindparam("limit", type_=sa.Integer()))
    )
    if dialect == "postgresql":
        # Several dispatchers share the work: each takes rows the others have not locked.
        query = query.with_for_update(of=_MESSAGE, skip_locked=True)
    return query


@cache
def _claim(dialect: str) -> sa.Select[Any]:
    return _claim_query(dialect)


# PostgreSQL: a whole batch in one statement (arrays of ids and values), whatever its size, so
# one prepared statement serves every batch; SQLite (the embedded mode) goes row by row.
_PG_MARK_SENDING = sa.text(
    "UPDATE message SET status = 'sending', attempts = message.attempts + 1, sent_at = :now, "
    "callback_token_hash = u.token_hash "
    "FROM unnest(CAST(:ids AS varchar[]), CAST(:token_hashes AS varchar[])) AS u(id, token_hash) "
    "WHERE message.id = u.id"
)
# A row moves only from the status it had when read (`expected`): a delivery report that came first
# wins. The provider's reference is kept when an outcome brings none (a report may have set it).
_PG_MOVE = sa.text(
    "UPDATE message SET status = u.status, reason = u.reason, "
    "provider_reference = COALESCE(u.reference, message.provider_reference), "
    "provider = COALESCE(u.provider, message.provider), attempts = u.attempts, "
    "next_attempt_at = u.next_attempt_at, completed_at = u.completed_at "
    "FROM unnest(CAST(:ids AS varchar[]), CAST(:expected AS varchar[]), CAST(:statuses AS varchar[]), "
    "CAST(:reasons AS text[]), CAST(:references AS varchar[]), CAST(:providers AS varchar[]), "
    "CAST(:attempts AS integer[]), CAST(:next_attempts AS timestamptz[]), "
    "CAST(:completed AS timestamptz[])) "
    "AS u(id, expected, status, reason, reference, provider, attempts, next_attempt_at, completed_at) "
    "WHERE message.id = u.id AND message.status = u.expected "
    "RETURNING message.id"
)
_SQLITE_MARK_SENDING = (
    sa.update(_MESSAGE)
    .where(_M.id == sa.bindparam("b_id"))
    .values(
        status="sending",
        attempts=_M.attempts + 1,
        sent_at=sa.bindparam("b_now", type_=_M.sent_at.type),
        callback_token_hash=sa.bindparam("b_token_hash"),
    )
)
_SQLITE_MOVE = (
    sa.update(_MESSAGE)
    .where(_M.id == sa.bindparam("b_id"), _M.status == sa.bindparam("b_expected"))
    .values(
        status=sa.bindparam("b_status"),
        reason=sa.bindparam("b_reason"),
        provider_reference=sa.func.coalesce(
            sa.bindparam("b_reference", type_=sa.String()), _M.provider_reference
        ),
        provider=sa.func.coalesce(sa.bindparam("b_provider", type_=sa.String()), _M.provider),
        attempts=sa.bindparam("b_attempts"),
        next_attempt_at=sa.bindparam("b_next", type_=_M.next_attempt_at.type),
        completed_at=sa.bindparam("b_completed", type_=_M.completed_at.type),
    )
    .returning(_M.id)
)
_DEFER = (
    sa.update(_MESSAGE)
    .where(_M.id == sa.bindparam("b_id"))
    .values(next_attempt_at=sa.bindparam("b_until", type_=_M.next_attempt_at.type))
)


def _is_pg(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def due(session: AsyncSession, now: datetime, limit: int) -> list[Delivery]:
    """Due messages, oldest first, locked until the caller's transaction ends."""
    rows = await session.execute(_claim(session.get_bind().dialect.name), {"now": now, "limit": limit})
    deliveries = []
    for row in rows:
        values = row._asdict()
        start, end = values.pop("quiet_start"), values.pop("quiet_end")
        delivery = Delivery(**values, quiet=(start, end) if start is not None else None)
        delivery.was = delivery.status
        deliveries.append(delivery)
    return deliveries


async def mark_sending(
    session: AsyncSession, claimed: list[Delivery], token_hashes: dict[str, str], now: datetime
) -> None:
    if not claimed:
        return
    if _is_pg(session):
        ids = [d.id for d in claimed]
        await session.execute(
            _PG_MARK_SENDING, {"ids": ids, "token_hashes": [token_hashes.get(i) for i in ids], "now": now}
        )
        return
    params = [{"b_id": d.id, "b_now": now, "b_token_hash": token_hashes.get(d.id)} for d in claimed]
    await session.execute(_SQLITE_MARK_SENDING, params)


async def defer(session: AsyncSession, until: list[tuple[str, datetime]]) -> None:
    if until:
        await session.execute(_DEFER, [{"b_id": i, "b_until": t} for i, t in until])


@dataclass(frozen=True)
class Move:
    """A delivery's new state (already applied to it), the status it must still be in, its provider."""

    delivery: Delivery
    expected: str
    provider: str | None = None


async def move(session: AsyncSession, moves: list[Move]) -> set[str]:
    """Write each delivery's new state; returns the ids that were still in their expected status."""
    if not moves:
        return set()
    if _is_pg(session):
        params = {
            "ids": [m.delivery.id for m in moves],
            "expected": [m.expected for m in moves],
            "statuses": [m.delivery.status for m in moves],
            "reasons": [m.delivery.reason for m in moves],
            "references": [m.delivery.provider_reference for m in moves],
            "providers": [m.provider for m in moves],
            "attempts": [m.delivery.attempts for m in moves],
            "next_attempts": [m.delivery.next_attempt_at for m in moves],
            "completed": [m.delivery.completed_at for m in moves],
        }
        return set((await session.scalars(_PG_MOVE, params)).all())
    moved: set[str] = set()
    for m in moves:
        d = m.delivery
        row = await session.execute(
            _SQLITE_MOVE,
            {
                "b_id": d.id,
                "b_expected": m.expected,
                "b_status": d.status,
                "b_reason": d.reason,
                "b_reference": d.provider_reference,
                "b_provider": m.provider,
                "b_attempts": d.attempts,
                "b_next": d.next_attempt_at,
                "b_completed": d.completed_at,
            },
        )
        moved.update(row.scalars())
    return moved
