"""Hall figures a manager staffs windows by: tickets per hour, wait and service times, no-shows, transfers."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import date

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from intake.hall.clock import local
from intake.hall.models import Appointment, Ticket
from intake.hall.setup import get_hall


class HourFigures(BaseModel):
    hour: int = Field(ge=0, le=23, description="Hall time (Asia/Shanghai)")
    issued: int
    called: int


class Figures(BaseModel):
    issued: int = Field(description="Tickets taken (for a window: tickets first called there)")
    served: int
    no_shows: int
    no_show_rate: float | None = Field(description="No-shows among the tickets called")
    transferred_out: int
    expired: int
    cancelled: int
    wait_p50_s: int | None = Field(description="Issue to first call")
    wait_p90_s: int | None
    service_p50_s: int | None = Field(description="Start to finish of service")
    service_p90_s: int | None


class QueueFigures(Figures):
    queue_code: str


class WindowFigures(Figures):
    window_code: str


class AppointmentFigures(BaseModel):
    booked: int = Field(description="All bookings for slots in the period")
    checked_in: int
    cancelled: int
    no_shows: int
    pending: int


class HallStatistics(BaseModel):
    hall_id: str
    date_from: date
    date_to: date
    totals: Figures
    tickets_per_hour: list[HourFigures]
    queues: list[QueueFigures]
    windows: list[WindowFigures]
    appointments: AppointmentFigures


def percentile(values: list[float], p: float) -> int | None:
    """Nearest-rank percentile, whole seconds."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(p * len(ordered)) - 1)])


def figures(tickets: Iterable[Ticket]) -> Figures:
    rows = list(tickets)
    status = Counter(t.status for t in rows)
    called = [t for t in rows if t.first_called_at is not None]
    waits = [(t.first_called_at - t.issued_at).total_seconds() for t in called if t.first_called_at]
    services = [
        (t.finished_at - t.serving_started_at).total_seconds()
        for t in rows
        if t.status == "done" and t.finished_at and t.serving_started_at
    ]
    return Figures(
        issued=len(rows),
        served=status["done"],
        no_shows=status["no_show"],
        no_show_rate=round(status["no_show"] / len(called), 4) if called else None,
        transferred_out=status["transferred"],
        expired=status["expired"],
        cancelled=status["cancelled"],
        wait_p50_s=percentile(waits, 0.5),
        wait_p90_s=percentile(waits, 0.9),
        service_p50_s=percentile(services, 0.5),
        service_p90_s=percentile(services, 0.9),
    )


def grouped(tickets: list[Ticket], key: Callable[[Ticket], str | None]) -> dict[str, list[Ticket]]:
    groups: dict[str, list[Ticket]] = defaultdict(list)
    for ticket in tickets:
        if (value := key(ticket)) is not None:
            groups[value].append(ticket)
    return dict(sorted(groups.items()))


async def hall_statistics(
    session: AsyncSession, hall_id: str, date_from: date, date_to: date
) -> HallStatistics:
    await get_hall(session, hall_id)
    tickets = list(
        await session.scalars(
            sa.select(Ticket).where(
                Ticket.hall_id == hall_id, Ticket.service_date.between(date_from, date_to)
            )
        )
    )
    issued = Counter(local(t.issued_at).hour for t in tickets)
    called = Counter(local(t.first_called_at).hour for t in tickets if t.first_called_at)
    bookings = Counter(
        await session.scalars(
            sa.select(Appointment.status).where(
                Appointment.hall_id == hall_id, Appointment.slot_date.between(date_from, date_to)
            )
        )
    )
    return HallStatistics(
        hall_id=hall_id,
        date_from=date_from,
        date_to=date_to,
        totals=figures(tickets),
        tickets_per_hour=[
            HourFigures(hour=h, issued=issued[h], called=called[h]) for h in sorted(set(issued) | set(called))
        ],
        queues=[
            QueueFigures(queue_code=code, **figures(group).model_dump())
            for code, group in grouped(tickets, lambda t: t.queue_code).items()
        ],
        windows=[
            WindowFigures(window_code=code, **figures(group).model_dump())
            for code, group in grouped(
                [t for t in tickets if t.first_called_at], lambda t: t.window_code
            ).items()
        ],
        appointments=AppointmentFigures(
            booked=sum(bookings.values()),
            checked_in=bookings["checked_in"],
            cancelled=bookings["cancelled"],
            no_shows=bookings["no_show"],
            pending=bookings["booked"],
        ),
    )
