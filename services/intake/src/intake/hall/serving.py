"""Serving at a window: start, finish (with the item and the application produced), no-show, transfer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.intake import TicketFinished, TicketServiceStarted, TicketTransferred
from intake.hall import queueing
from intake.hall.calling import mark_missed
from intake.hall.issuing import add_ticket
from intake.hall.models import Hall, Queue, Ticket
from intake.hall.rules import check_at_window, conflict, emit, invalid
from intake.hall.schemas import FinishRequest, TicketPublic, TransferRequest
from intake.hall.tickets import visible_ticket
from intake.models import Application
from intake.service import current_item
from servicekit.identity import Identity


async def at_my_window(
    session: AsyncSession, identity: Identity, ticket_id: str, statuses: tuple[str, ...], doing: str
) -> Ticket:
    """The ticket, locked, in one of `statuses` at the caller's own window; else a 4xx, nothing changed."""
    ticket = await visible_ticket(session, identity, ticket_id, lock=True)
    if ticket.status not in statuses or ticket.window_code is None:
        raise conflict(
            "ticket_state",
            f"{ticket.number}号状态为 {ticket.status}，不能{doing} (needs {' or '.join(statuses)})",
            "status",
            "_or_".join(statuses),
        )
    check_at_window(identity, ticket.window_code)
    return ticket


async def start(session: AsyncSession, identity: Identity, ticket_id: str, now: datetime) -> TicketPublic:
    async with session.begin():
        ticket = await at_my_window(session, identity, ticket_id, ("called",), "开始办理")
        ticket.status, ticket.serving_started_at = "serving", now
        started = TicketServiceStarted(
            ticket_id=ticket.id, hall_id=ticket.hall_id, window_code=ticket.window_code or "", started_at=now
        )
        await emit(session, "intake.ticket.service_started", ticket.id, started)
    return queueing.public(ticket, None, None)


async def finish(
    session: AsyncSession, identity: Identity, ticket_id: str, data: FinishRequest, now: datetime
) -> TicketPublic:
    async with session.begin():
        ticket = await at_my_window(session, identity, ticket_id, ("serving",), "办结")
        if data.item_id is not None and await current_item(session, data.item_id) is None:
            raise invalid(
                "unknown_item", f"事项 {data.item_id} 不存在 (unknown item)", "item_id", "published_item"
            )
        if data.application_id is not None and await session.get(Application, data.application_id) is None:
            raise invalid(
                "unknown_application",
                f"申请 {data.application_id} 不存在 (unknown application)",
                "application_id",
                "exists",
            )
        ticket.status, ticket.finished_at = "done", now
        ticket.served_item_id = data.item_id or ticket.item_id
        ticket.application_id = data.application_id
        started, first_call = ticket.serving_started_at, ticket.first_called_at
        finished = TicketFinished(
            ticket_id=ticket.id,
            hall_id=ticket.hall_id,
            queue_code=ticket.queue_code,
            window_code=ticket.window_code or "",
            item_id=ticket.served_item_id,
            application_id=ticket.application_id,
            wait_s=int((first_call - ticket.issued_at).total_seconds()) if first_call else None,
            service_s=int((now - started).total_seconds()) if started else None,
            finished_at=now,
        )
        await emit(session, "intake.ticket.finished", ticket.id, finished)
    return queueing.public(ticket, None, None)


async def no_show(session: AsyncSession, identity: Identity, ticket_id: str, now: datetime) -> TicketPublic:
    """过号: only after the hall's number of calls, so a citizen on the way is not dropped at once."""
    async with session.begin():
        ticket = await at_my_window(session, identity, ticket_id, ("called",), "过号")
        hall = await session.get(Hall, ticket.hall_id)
        assert hall is not None
        if ticket.call_count < hall.max_calls:
            raise conflict(
                "too_few_calls",
                f"{ticket.number}号仅呼叫{ticket.call_count}次，需呼叫{hall.max_calls}次后方可过号 (recall first)",
                "call_count",
                "calls_before_no_show",
            )
        await mark_missed(session, ticket, now)
    return queueing.public(ticket, None, None)


async def transfer(
    session: AsyncSession, identity: Identity, ticket_id: str, data: TransferRequest, now: datetime
) -> TicketPublic:
    """To another queue as a new ticket linked to this one, in the place its original time gives it."""
    async with session.begin():
        ticket = await at_my_window(session, identity, ticket_id, ("called", "serving"), "转移")
        hall = await session.get(Hall, ticket.hall_id)
        target = await session.get(Queue, (ticket.hall_id, data.queue_code))
        assert hall is not None
        if target is None:
            raise invalid(
                "unknown_queue", f"大厅没有队列 {data.queue_code} (no such queue)", "queue_code", "exists"
            )
        if target.code == ticket.queue_code:
            raise invalid(
                "same_queue", "转移须到另一个队列 (transfer to another queue)", "queue_code", "other_queue"
            )
        ticket.status, ticket.ended_at = "transferred", now
        await session.flush()
        new = await add_ticket(
            session,
            hall,
            target,
            now,
            priority=ticket.priority,
            channel="transfer",
            issued_by=identity.client_id,
            id_number=ticket.id_number,
            item_id=ticket.item_id,
            queued_at=ticket.queued_at,
            transferred_from_id=ticket.id,
        )
        transferred = TicketTransferred(
            ticket_id=ticket.id,
            hall_id=ticket.hall_id,
            from_queue_code=ticket.queue_code,
            window_code=ticket.window_code or "",
            new_ticket_id=new.id,
            new_queue_code=target.code,
            new_number=new.number,
            reason=data.reason,
            transferred_at=now,
        )
        await emit(session, "intake.ticket.transferred", ticket.id, transferred)
    return new
