"""Issuing a ticket: the hall must be open, the queue is the item's, numbers come per queue and day."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.intake import TicketIssued
from intake.hall import hours, queueing
from intake.hall.clock import local, local_date
from intake.hall.models import LIVE_TICKET, Hall, Queue, Ticket, TicketSerial
from intake.hall.rules import conflict, emit, invalid
from intake.hall.schemas import TicketPublic
from intake.service import current_item

ELDERLY_AGE = 70
PRIORITY = ("elderly", "disabled", "military", "appointment")


async def check_open(session: AsyncSession, hall: Hall, queue: Queue, now: datetime) -> None:
    """Tickets are issued while a window serving the queue is open (错时 and 延时 count)."""
    windows = await queueing.queue_windows(session, hall.id, queue.code)
    if not hours.is_open(hall.hours, now, windows):
        reopens = hours.next_opening(hall.hours, now, windows)
        when = local(reopens).strftime("%Y-%m-%d %H:%M") if reopens else "未定"
        raise conflict(
            "hall_closed",
            f"当前不在办公时间，下次办公时间 {when} (closed now; opens again {when})",
            "hall_id",
            "opening_hours",
        )


async def queue_for(session: AsyncSession, hall_id: str, item_id: str | None, code: str | None) -> Queue:
    """The queue asked for, or the one that serves the item's department (else the default queue)."""
    if code is not None:
        queue = await session.get(Queue, (hall_id, code))
        if queue is None:
            raise invalid("unknown_queue", f"大厅没有队列 {code} (no such queue)", "queue_code", "exists")
        return queue
    assert item_id is not None
    item = await current_item(session, item_id)
    if item is None:
        raise invalid(
            "unknown_item", f"事项 {item_id} 不存在或已废止 (unknown item)", "item_id", "published_item"
        )
    queues = (
        await session.scalars(sa.select(Queue).where(Queue.hall_id == hall_id).order_by(Queue.code))
    ).all()
    chosen = next((q for q in queues if item.department_code in q.departments), None)
    chosen = chosen or next((q for q in queues if q.is_default), None)
    if chosen is None:
        raise invalid(
            "item_not_served", f"本大厅不办理事项 {item_id} (not handled here)", "item_id", "served_in_hall"
        )
    return chosen


async def next_serial(session: AsyncSession, hall_id: str, queue_code: str, day: date) -> int:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    upsert = (
        insert(TicketSerial)
        .values(hall_id=hall_id, queue_code=queue_code, service_date=day, last=1)
        .on_conflict_do_update(
            index_elements=[TicketSerial.hall_id, TicketSerial.queue_code, TicketSerial.service_date],
            set_={"last": TicketSerial.last + 1},
        )
        .returning(TicketSerial.last)
    )
    return int((await session.execute(upsert)).scalar_one())


async def add_ticket(
    session: AsyncSession,
    hall: Hall,
    queue: Queue,
    now: datetime,
    *,
    priority: str,
    channel: str,
    issued_by: str,
    id_number: str | None = None,
    item_id: str | None = None,
    queued_at: datetime | None = None,
    transferred_from_id: str | None = None,
    appointment_id: str | None = None,
) -> TicketPublic:
    """Insert a waiting ticket and its `issued` event (inside the caller's transaction)."""
    today = local_date(now)
    if id_number is not None and await session.scalar(
        sa.select(Ticket.number).where(
            Ticket.hall_id == hall.id,
            Ticket.queue_code == queue.code,
            Ticket.service_date == today,
            Ticket.id_number == id_number,
            Ticket.status.in_(LIVE_TICKET),
        )
    ):
        raise conflict(
            "live_ticket_exists",
            "同一人在同一队列只能持有一个有效号 (one live ticket per person and queue)",
            "id_number",
            "one_live_ticket_per_queue",
        )
    pace = await queueing.pace_s(session, hall, queue, now, today)
    # The serial row stays locked until commit: everything that can be read is read before it.
    serial = await next_serial(session, hall.id, queue.code, today)
    ticket = Ticket(
        id=uuid.uuid4().hex,
        hall_id=hall.id,
        queue_code=queue.code,
        service_date=today,
        serial=serial,
        number=f"{queue.code}{serial:03d}",
        status="waiting",
        priority=priority,
        priority_rank=0 if priority in PRIORITY else 1,
        queued_at=queued_at or now,
        channel=channel,
        id_number=id_number,
        item_id=item_id,
        issued_by=issued_by,
        issued_at=now,
        window_code=None,
        call_count=0,
        transferred_from_id=transferred_from_id,
        appointment_id=appointment_id,
    )
    session.add(ticket)
    await session.flush()
    place = await queueing.position(session, ticket)
    assert place is not None
    wait = queueing.minutes(place, pace)
    issued = TicketIssued(
        ticket_id=ticket.id,
        queue_code=queue.code,
        number=ticket.number,
        priority=priority,
        issued_at=now,
        hall_id=hall.id,
        service_date=today,
        channel=channel,
        citizen_id=id_number,
        item_id=item_id,
        position=place,
        estimated_wait_minutes=wait,
        transferred_from_ticket_id=transferred_from_id,
        appointment_id=appointment_id,
    )
    await emit(session, "intake.ticket.issued", ticket.id, issued)
    return queueing.public(ticket, place, wait)
