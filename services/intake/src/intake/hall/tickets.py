"""One-click tickets (导办一键取号): by item or by category, numbered per queue, with a priority class."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from govcodes.idnumber import age_on
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.intake import TicketCancelled
from intake.hall import queueing
from intake.hall.clock import local_date
from intake.hall.issuing import ELDERLY_AGE, add_ticket, check_open, queue_for
from intake.hall.models import Hall, Ticket
from intake.hall.rules import conflict, emit, invalid, may_see_ticket, own_id_number
from intake.hall.schemas import TicketCreate, TicketPublic
from servicekit.auth import forbidden
from servicekit.identity import Identity
from servicekit.problems import not_found


def check_priority(identity: Identity, data: TicketCreate) -> None:
    if identity.kind == "citizen" and data.channel != "app":
        raise invalid(
            "citizen_channel",
            "市民自助取号请使用 app 渠道 (citizens take tickets in the app)",
            "channel",
            "app_for_citizens",
        )
    if identity.kind == "citizen" and data.priority != "normal":
        raise invalid(
            "priority_needs_check",
            "残疾人、军人优先须在导办台核验证件 (verified at the guide desk)",
            "priority",
            "verified_at_guide_desk",
        )


async def issue_ticket(
    session: AsyncSession, identity: Identity, data: TicketCreate, now: datetime
) -> TicketPublic:
    id_number = own_id_number(identity, data.id_number)
    check_priority(identity, data)
    async with session.begin():
        hall = await session.get(Hall, data.hall_id)
        if hall is None:
            raise invalid("unknown_hall", f"大厅 {data.hall_id} 不存在 (unknown hall)", "hall_id", "exists")
        queue = await queue_for(session, hall.id, data.item_id, data.queue_code)
        await check_open(session, hall, queue, now)
        priority: str = data.priority
        if (
            priority == "normal"
            and id_number is not None
            and age_on(id_number, local_date(now)) >= ELDERLY_AGE
        ):
            priority = "elderly"
        return await add_ticket(
            session,
            hall,
            queue,
            now,
            priority=priority,
            channel=data.channel,
            issued_by=identity.client_id,
            id_number=id_number,
            item_id=data.item_id,
        )


async def visible_ticket(
    session: AsyncSession, identity: Identity, ticket_id: str, lock: bool = False
) -> Ticket:
    query = sa.select(Ticket).where(Ticket.id == ticket_id)
    ticket = await session.scalar(query.with_for_update() if lock else query)
    # Someone else's ticket answers exactly like a missing one: ticket ids cannot be probed.
    if ticket is None or not may_see_ticket(identity, ticket):
        raise not_found("号 ticket", ticket_id)
    return ticket


async def get_ticket(
    session: AsyncSession, identity: Identity, ticket_id: str, now: datetime
) -> TicketPublic:
    return await queueing.ticket_view(session, await visible_ticket(session, identity, ticket_id), now)


async def list_tickets(
    session: AsyncSession,
    identity: Identity,
    now: datetime,
    filters: tuple[str | None, date | None, str | None],
    limit: int,
) -> list[TicketPublic]:
    """A citizen's own tickets; staff and operators filter by (hall, day, status)."""
    query = sa.select(Ticket).order_by(Ticket.issued_at.desc(), Ticket.serial.desc()).limit(limit)
    if identity.kind == "citizen":
        query = query.where(Ticket.id_number == identity.citizen_id)
    elif identity.kind not in ("staff", "operator"):
        raise forbidden("只有市民本人和大厅工作人员可以查看号 (citizens and hall staff only)")
    hall_id, day, status = filters
    if hall_id is not None:
        query = query.where(Ticket.hall_id == hall_id)
    if day is not None:
        query = query.where(Ticket.service_date == day)
    if status is not None:
        query = query.where(Ticket.status == status)
    return [await queueing.ticket_view(session, t, now) for t in await session.scalars(query)]


async def cancel_ticket(
    session: AsyncSession, identity: Identity, ticket_id: str, now: datetime
) -> TicketPublic:
    async with session.begin():
        ticket = await visible_ticket(session, identity, ticket_id, lock=True)
        if ticket.status not in ("waiting", "called"):
            raise conflict(
                "ticket_not_live",
                f"号状态为 {ticket.status}，不能取消 (only a live ticket is cancelled)",
                "status",
                "waiting_or_called",
            )
        ticket.status, ticket.ended_at = "cancelled", now
        await session.flush()
        moved = await queueing.upcoming(session, ticket.hall_id, ticket.queue_code, ticket.service_date)
        cancelled = TicketCancelled(
            ticket_id=ticket.id,
            hall_id=ticket.hall_id,
            queue_code=ticket.queue_code,
            number=ticket.number,
            citizen_id=ticket.id_number,
            call_count=ticket.call_count,
            ended_at=now,
            upcoming=moved,
        )
        await emit(session, "intake.ticket.cancelled", ticket.id, cancelled)
    return queueing.public(ticket, None, None)
