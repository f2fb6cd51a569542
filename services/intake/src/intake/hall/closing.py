"""End of a hall day: tickets still waiting expire, missed appointments become no-shows (kept, not deleted)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.intake import AppointmentMissed, TicketExpired
from intake.hall import hours
from intake.hall.appointments import write
from intake.hall.clock import local_date
from intake.hall.models import Appointment, Hall, Ticket
from intake.hall.rules import conflict, emit
from intake.hall.schemas import DayClosed
from servicekit.problems import not_found


async def close_day(session: AsyncSession, hall_id: str, day: date | None, now: datetime) -> DayClosed:
    """Idempotent; also sweeps earlier days nobody closed. Serving tickets are left to their window."""
    today = local_date(now)
    day = day or today
    async with session.begin():
        hall = await session.get(Hall, hall_id)
        if hall is None:
            raise not_found("大厅 hall", hall_id)
        closes = hours.closing_at(hall.hours, day)
        if day > today or (day == today and closes is not None and now < closes):
            raise conflict(
                "day_not_over",
                f"{day} 尚未闭厅 (the hall day is not over: closes {closes})",
                "day",
                "after_closing",
            )
        # SKIP LOCKED: a ticket a window is calling this very moment is left to that window.
        tickets = await session.scalars(
            sa.select(Ticket)
            .where(
                Ticket.hall_id == hall_id,
                Ticket.service_date <= day,
                Ticket.status.in_(("waiting", "called")),
            )
            .with_for_update(skip_locked=True)
        )
        expired = 0
        for ticket in tickets:
            ticket.status, ticket.ended_at = "expired", now
            event = TicketExpired(
                ticket_id=ticket.id,
                hall_id=hall_id,
                queue_code=ticket.queue_code,
                number=ticket.number,
                citizen_id=ticket.id_number,
                call_count=ticket.call_count,
                ended_at=now,
            )
            await emit(session, "intake.ticket.expired", ticket.id, event)
            expired += 1
        bookings = await session.scalars(
            sa.select(Appointment)
            .where(
                Appointment.hall_id == hall_id, Appointment.slot_date <= day, Appointment.status == "booked"
            )
            .with_for_update(skip_locked=True)
        )
        missed = 0
        for appointment in bookings:
            appointment.status, appointment.ended_at = "no_show", now
            await write(session, "intake.appointment.missed", AppointmentMissed, appointment, now)
            missed += 1
    return DayClosed(
        hall_id=hall_id,
        day=day,
        expired_tickets=expired,
        missed_appointments=missed,
        next_opening_day=hours.next_opening_day(hall.hours, day),
    )


async def close_due_days(sessions: async_sessionmaker[AsyncSession], now: datetime) -> list[DayClosed]:
    """For a scheduler (cron, a worker loop): close every hall's last day whose closing time passed."""
    async with sessions() as session:
        halls = (await session.scalars(sa.select(Hall))).all()
    closed = []
    today = local_date(now)
    for hall in halls:
        closes = hours.closing_at(hall.hours, today)
        day = today if closes is None or now >= closes else today - timedelta(days=1)
        async with sessions() as session:
            closed.append(await close_day(session, hall.id, day, now))
    return closed
