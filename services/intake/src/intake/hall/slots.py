"""Appointment slots per hall, queue and day: made only where the hall calendar opens."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from intake.hall import hours
from intake.hall.models import AppointmentSlot, Hall, Queue
from intake.hall.queueing import queue_windows
from intake.hall.rules import invalid
from intake.hall.schemas import SlotPublic, SlotsCreate, SlotsCreated
from servicekit.problems import not_found

MAX_DAYS = 31


async def create_slots(session: AsyncSession, hall_id: str, data: SlotsCreate) -> SlotsCreated:
    """Idempotent: a slot that exists already is left as it is (its bookings stay)."""
    async with session.begin():
        hall = await session.get(Hall, hall_id)
        if hall is None:
            raise not_found("大厅 hall", hall_id)
        if await session.get(Queue, (hall_id, data.queue_code)) is None:
            raise invalid(
                "unknown_queue", f"大厅没有队列 {data.queue_code} (no such queue)", "queue_code", "exists"
            )
        windows = await queue_windows(session, hall_id, data.queue_code)
        created, closed, outside = 0, [], []
        day = data.date_from
        while day <= data.date_to:
            if not hours.intervals(hall.hours, day, windows):
                closed.append(day)
            else:
                existing = set(
                    await session.scalars(
                        sa.select(AppointmentSlot.start_time).where(
                            AppointmentSlot.hall_id == hall_id,
                            AppointmentSlot.queue_code == data.queue_code,
                            AppointmentSlot.slot_date == day,
                        )
                    )
                )
                for start in sorted(set(data.start_times)):
                    if not hours.within_hours(hall.hours, day, start, data.duration_min, windows):
                        outside.append(f"{day} {start}")
                    elif start not in existing:
                        session.add(
                            AppointmentSlot(
                                id=uuid.uuid4().hex,
                                hall_id=hall_id,
                                queue_code=data.queue_code,
                                slot_date=day,
                                start_time=start,
                                duration_min=data.duration_min,
                                capacity=data.capacity,
                                booked=0,
                            )
                        )
                        created += 1
            day += timedelta(days=1)
    return SlotsCreated(created=created, closed_days=closed, outside_hours=outside)


async def list_slots(
    session: AsyncSession, hall_id: str, queue_code: str | None, date_from: date, days: int
) -> list[SlotPublic]:
    if await session.get(Hall, hall_id) is None:
        raise not_found("大厅 hall", hall_id)
    query = (
        sa.select(AppointmentSlot)
        .where(
            AppointmentSlot.hall_id == hall_id,
            AppointmentSlot.slot_date.between(date_from, date_from + timedelta(days=days - 1)),
        )
        .order_by(AppointmentSlot.slot_date, AppointmentSlot.queue_code, AppointmentSlot.start_time)
    )
    if queue_code is not None:
        query = query.where(AppointmentSlot.queue_code == queue_code)
    return [SlotPublic.model_validate(slot) for slot in await session.scalars(query)]
