"""Queue order, positions and wait estimates (from the queue and recent service times), ticket views."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.intake import WaitingPosition
from intake.hall import hours
from intake.hall.models import Hall, Queue, Ticket, Window
from intake.hall.schemas import TicketPublic
from servicekit.masking import mask_id

SERVICE_SAMPLE = 20  # the last services measured for an estimate: recent enough to follow the day
SAMPLE_DAYS = 7
UPCOMING = 5  # waiting tickets named in a call event; notify needs positions up to 3

# Priority classes first, then by the time the ticket joined the queue, then by number.
ORDER = (Ticket.priority_rank, Ticket.queued_at, Ticket.serial)


def waiting_in(hall_id: str, queue_codes: list[str], day: date) -> sa.ColumnElement[bool]:
    return sa.and_(
        Ticket.hall_id == hall_id,
        Ticket.service_date == day,
        Ticket.status == "waiting",
        Ticket.queue_code.in_(queue_codes),
    )


def ahead_of(ticket: Ticket) -> sa.ColumnElement[bool]:
    return sa.or_(
        Ticket.priority_rank < ticket.priority_rank,
        sa.and_(Ticket.priority_rank == ticket.priority_rank, Ticket.queued_at < ticket.queued_at),
        sa.and_(
            Ticket.priority_rank == ticket.priority_rank,
            Ticket.queued_at == ticket.queued_at,
            Ticket.serial < ticket.serial,
        ),
    )


def announcement(number: str, window_code: str) -> str:
    return f"请{number}号到{window_code}号窗口办理"


async def position(session: AsyncSession, ticket: Ticket) -> int | None:
    if ticket.status != "waiting":
        return None
    ahead = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Ticket)
        .where(waiting_in(ticket.hall_id, [ticket.queue_code], ticket.service_date), ahead_of(ticket))
    )
    return int(ahead or 0) + 1


async def upcoming(session: AsyncSession, hall_id: str, queue_code: str, day: date) -> list[WaitingPosition]:
    rows = await session.execute(
        sa.select(Ticket.id, Ticket.number, Ticket.id_number)
        .where(waiting_in(hall_id, [queue_code], day))
        .order_by(*ORDER)
        .limit(UPCOMING)
    )
    return [
        WaitingPosition(ticket_id=row.id, number=row.number, position=i, citizen_id=row.id_number)
        for i, row in enumerate(rows, start=1)
    ]


async def mean_service_s(session: AsyncSession, queue: Queue, today: date) -> float:
    rows = await session.execute(
        sa.select(Ticket.serving_started_at, Ticket.finished_at)
        .where(
            Ticket.hall_id == queue.hall_id,
            Ticket.queue_code == queue.code,
            Ticket.service_date.between(today - timedelta(days=SAMPLE_DAYS), today),
            Ticket.status == "done",
        )
        .order_by(Ticket.finished_at.desc())
        .limit(SERVICE_SAMPLE)
    )
    spans = [(end - start).total_seconds() for start, end in rows if start is not None and end is not None]
    return sum(spans) / len(spans) if spans else float(queue.default_service_s)


async def queue_windows(session: AsyncSession, hall_id: str, queue_code: str) -> list[str]:
    """The windows that serve a queue, whatever their status: the hours open for them open the queue."""
    windows = await session.scalars(sa.select(Window).where(Window.hall_id == hall_id))
    return [w.code for w in windows if queue_code in w.queues]


async def serving_windows(session: AsyncSession, hall: Hall, queue_code: str, now: datetime) -> int:
    """Windows open now that serve the queue; at least one (a queue waits for the hall to reopen)."""
    windows = (await session.scalars(sa.select(Window).where(Window.hall_id == hall.id))).all()
    staffed = [w for w in windows if w.status == "open" and queue_code in w.queues]
    open_now = [w for w in staffed if hours.is_open(hall.hours, now, [w.code])]
    return max(1, len(open_now) or len(staffed))


async def pace_s(session: AsyncSession, hall: Hall, queue: Queue, now: datetime, today: date) -> float:
    """Seconds the queue advances by one place: recent service time over the windows serving it."""
    return await mean_service_s(session, queue, today) / await serving_windows(session, hall, queue.code, now)


def minutes(place: int, pace: float) -> int:
    return math.ceil(place * pace / 60)


async def ticket_view(session: AsyncSession, ticket: Ticket, now: datetime) -> TicketPublic:
    place = await position(session, ticket)
    wait: int | None = None
    if place is not None:
        hall = await session.get(Hall, ticket.hall_id)
        queue = await session.get(Queue, (ticket.hall_id, ticket.queue_code))
        assert hall is not None  # foreign keys
        assert queue is not None
        wait = minutes(place, await pace_s(session, hall, queue, now, ticket.service_date))
    return public(ticket, place, wait)


def public(ticket: Ticket, place: int | None, wait: int | None) -> TicketPublic:
    called = ticket.status == "called" and ticket.window_code is not None
    return TicketPublic(
        id=ticket.id,
        hall_id=ticket.hall_id,
        queue_code=ticket.queue_code,
        number=ticket.number,
        status=ticket.status,
        priority=ticket.priority,
        channel=ticket.channel,
        service_date=ticket.service_date,
        issued_at=ticket.issued_at,
        item_id=ticket.item_id,
        id_number_masked=mask_id(ticket.id_number) if ticket.id_number else None,
        position=place,
        estimated_wait_minutes=wait,
        window_code=ticket.window_code,
        call_count=ticket.call_count,
        called_at=ticket.called_at,
        announcement=announcement(ticket.number, ticket.window_code)
        if called and ticket.window_code
        else None,
        serving_started_at=ticket.serving_started_at,
        finished_at=ticket.finished_at,
        ended_at=ticket.ended_at,
        served_item_id=ticket.served_item_id,
        application_id=ticket.application_id,
        transferred_from_id=ticket.transferred_from_id,
        appointment_id=ticket.appointment_id,
    )
