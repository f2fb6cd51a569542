"""Calling (叫号) at a window: call next or a given ticket, recall, no-show after the hall's calls.

Two windows calling at once never get the same ticket: on PostgreSQL the next ticket is taken with
FOR UPDATE SKIP LOCKED (a concurrent caller takes the one after), on SQLite the single writer
(BEGIN IMMEDIATE) serialises callers. The window row is locked first, so one window's own calls
queue behind each other and it holds at most one ticket at a time.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.intake import TicketCalled, TicketMissed
from intake.hall import hours, queueing
from intake.hall.clock import local_date
from intake.hall.models import Hall, Ticket, Window
from intake.hall.rules import check_at_window, conflict, emit, invalid
from intake.hall.schemas import CallResult
from intake.hall.tickets import visible_ticket
from servicekit.identity import Identity
from servicekit.problems import not_found


async def open_window(
    session: AsyncSession, identity: Identity, code: str, now: datetime
) -> tuple[Window, Hall]:
    """The caller's window, locked, open now; else a 409 naming why it may not call."""
    check_at_window(identity, code)
    window = await session.scalar(sa.select(Window).where(Window.code == code).with_for_update())
    if window is None:
        raise not_found("窗口 window", code)
    hall = await session.get(Hall, window.hall_id)
    assert hall is not None  # foreign key
    if window.status != "open":
        reason = f"（{window.pause_reason}）" if window.pause_reason else ""
        raise conflict(
            f"window_{window.status}",
            f"窗口{code}{'已暂停' if window.status == 'paused' else '已关闭'}{reason}，不能叫号 (window is {window.status})",
            "window",
            "open",
        )
    if not hours.is_open(hall.hours, now, [code]):
        raise conflict(
            "window_outside_hours",
            f"窗口{code}当前不在办公时间 (outside the window's opening hours)",
            "window",
            "opening_hours",
        )
    return window, hall


async def mark_missed(session: AsyncSession, ticket: Ticket, now: datetime) -> None:
    ticket.status, ticket.ended_at = "no_show", now
    missed = TicketMissed(
        ticket_id=ticket.id,
        hall_id=ticket.hall_id,
        queue_code=ticket.queue_code,
        number=ticket.number,
        citizen_id=ticket.id_number,
        call_count=ticket.call_count,
        ended_at=now,
    )
    await emit(session, "intake.ticket.missed", ticket.id, missed)


async def free_window(session: AsyncSession, window: Window, hall: Hall, now: datetime) -> None:
    """A window moves on from a called ticket only after the hall's number of calls (then a no-show)."""
    current = await session.scalar(
        sa.select(Ticket).where(Ticket.window_code == window.code, Ticket.status.in_(("called", "serving")))
    )
    if current is None:
        return
    if current.status == "called" and current.call_count >= hall.max_calls:
        await mark_missed(session, current, now)
        return
    doing = "正在办理" if current.status == "serving" else f"已呼叫{current.call_count}次"
    raise conflict(
        "window_busy",
        f"窗口{window.code}的{current.number}号{doing}：请先办结、转移、重呼或过号 (the window holds a ticket)",
        "window",
        "one_ticket_at_a_time",
    )


async def announce(session: AsyncSession, ticket: Ticket, now: datetime) -> None:
    await session.flush()
    called = TicketCalled(
        ticket_id=ticket.id,
        hall_id=ticket.hall_id,
        queue_code=ticket.queue_code,
        number=ticket.number,
        window_code=ticket.window_code or "",
        call_count=ticket.call_count,
        announcement=queueing.announcement(ticket.number, ticket.window_code or ""),
        citizen_id=ticket.id_number,
        called_at=now,
        upcoming=await queueing.upcoming(session, ticket.hall_id, ticket.queue_code, ticket.service_date),
    )
    await emit(session, "intake.ticket.called", ticket.id, called)


def take(ticket: Ticket, window: Window, now: datetime) -> None:
    ticket.status, ticket.window_code, ticket.call_count = "called", window.code, 1
    ticket.first_called_at = ticket.called_at = now


async def waiting(session: AsyncSession, window: Window, now: datetime) -> int:
    count = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Ticket)
        .where(queueing.waiting_in(window.hall_id, window.queues, local_date(now)))
    )
    return int(count or 0)


async def call_next(session: AsyncSession, identity: Identity, code: str, now: datetime) -> CallResult:
    """Priority classes first, then by queue order, across every queue the window serves."""
    async with session.begin():
        window, hall = await open_window(session, identity, code, now)
        await free_window(session, window, hall, now)
        ticket = await session.scalar(
            sa.select(Ticket)
            .where(queueing.waiting_in(hall.id, window.queues, local_date(now)))
            .order_by(*queueing.ORDER)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if ticket is not None:
            take(ticket, window, now)
            await announce(session, ticket, now)
        left = await waiting(session, window, now)
    return CallResult(ticket=queueing.public(ticket, None, None) if ticket else None, waiting=left)


async def call_ticket(
    session: AsyncSession, identity: Identity, code: str, ticket_id: str, now: datetime
) -> CallResult:
    """Call one given ticket (e.g. a citizen who went to the wrong window), out of turn."""
    async with session.begin():
        window, hall = await open_window(session, identity, code, now)
        ticket = await visible_ticket(session, identity, ticket_id, lock=True)
        if ticket.hall_id != hall.id or ticket.queue_code not in window.queues:
            raise invalid(
                "not_served_here",
                f"窗口{code}不办理{ticket.number}号的队列 (the window does not serve this queue)",
                "ticket_id",
                "served_by_window",
            )
        if ticket.status != "waiting" or ticket.service_date != local_date(now):
            raise conflict(
                "ticket_not_waiting",
                f"{ticket.number}号状态为 {ticket.status}，不能呼叫 (only a waiting ticket of today)",
                "ticket_id",
                "waiting",
            )
        await free_window(session, window, hall, now)
        take(ticket, window, now)
        await announce(session, ticket, now)
        left = await waiting(session, window, now)
    return CallResult(ticket=queueing.public(ticket, None, None), waiting=left)


async def recall(session: AsyncSession, identity: Identity, ticket_id: str, now: datetime) -> CallResult:
    async with session.begin():
        ticket = await visible_ticket(session, identity, ticket_id)
        window_code = ticket.window_code if ticket.status == "called" else None
        if window_code is not None:
            # The window is locked before the ticket, as call next does: no lock-order deadlock.
            window, hall = await open_window(session, identity, window_code, now)
            await session.refresh(ticket, with_for_update=True)
        if window_code is None or ticket.status != "called" or ticket.window_code != window_code:
            raise conflict(
                "ticket_not_called",
                f"{ticket.number}号状态为 {ticket.status}，不能重呼 (only a called ticket)",
                "ticket_id",
                "called",
            )
        if ticket.call_count >= hall.max_calls:
            raise conflict(
                "calls_used",
                f"{ticket.number}号已呼叫{ticket.call_count}次，请做过号处理 (mark it a no-show)",
                "call_count",
                "max_calls",
            )
        ticket.call_count += 1
        ticket.called_at = now
        await announce(session, ticket, now)
        left = await waiting(session, window, now)
    return CallResult(ticket=queueing.public(ticket, None, None), waiting=left)
