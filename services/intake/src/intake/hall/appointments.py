"""Appointments (预约): slots that follow the hall calendar; book, cancel, check in, no-show."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.intake import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentChanged,
    AppointmentCheckedIn,
    AppointmentMissed,
)
from intake.hall import hours
from intake.hall.clock import at_local
from intake.hall.issuing import add_ticket, check_open, queue_for
from intake.hall.models import LIVE_BOOKING, Appointment, AppointmentSlot, Hall
from intake.hall.queueing import queue_windows
from intake.hall.rules import conflict, emit, invalid, may_see_person, own_id_number
from intake.hall.schemas import AppointmentCreate, TicketPublic
from servicekit.auth import forbidden
from servicekit.identity import Identity
from servicekit.problems import not_found

CHECK_IN_EARLY = timedelta(minutes=60)  # the kiosk accepts a check-in up to an hour before the slot


def slot_span(slot_date: date, start_time: str, duration_min: int) -> tuple[datetime, datetime]:
    begins = at_local(slot_date, start_time)
    return begins, begins + timedelta(minutes=duration_min)


async def write(
    session: AsyncSession,
    event_type: str,
    model: type[AppointmentChanged],
    a: Appointment,
    now: datetime,
    **extra: str | None,
) -> None:
    data = model(
        appointment_id=a.id,
        hall_id=a.hall_id,
        queue_code=a.queue_code,
        item_id=a.item_id,
        citizen_id=a.id_number,
        slot_date=a.slot_date,
        start_time=a.start_time,
        at=now,
        **extra,
    )
    await emit(session, event_type, a.id, data)


async def book(
    session: AsyncSession, identity: Identity, data: AppointmentCreate, now: datetime
) -> Appointment:
    id_number = own_id_number(identity, data.id_number) or data.id_number
    async with session.begin():
        slot = await session.get(AppointmentSlot, data.slot_id)
        if slot is None:
            raise invalid(
                "unknown_slot", f"预约时段 {data.slot_id} 不存在 (unknown slot)", "slot_id", "exists"
            )
        hall = await session.get(Hall, slot.hall_id)
        assert hall is not None
        begins, _ = slot_span(slot.slot_date, slot.start_time, slot.duration_min)
        if begins <= now:
            raise invalid(
                "slot_past", "该时段已过，不能预约 (the slot has begun or passed)", "slot_id", "future_slot"
            )
        windows = await queue_windows(session, hall.id, slot.queue_code)
        if not hours.within_hours(hall.hours, slot.slot_date, slot.start_time, slot.duration_min, windows):
            raise invalid(
                "slot_closed", "该时段大厅不办公 (the hall is closed then)", "slot_id", "opening_hours"
            )
        queue = await queue_for(session, slot.hall_id, data.item_id, None)
        if queue.code != slot.queue_code:
            raise invalid(
                "item_not_in_queue",
                f"事项 {data.item_id} 应预约{queue.name}队列 (book the item's own queue {queue.code})",
                "item_id",
                "served_by_queue",
            )
        if await session.scalar(
            sa.select(Appointment.id).where(
                Appointment.id_number == id_number,
                Appointment.item_id == data.item_id,
                Appointment.slot_date == slot.slot_date,
                Appointment.status.in_(LIVE_BOOKING),
            )
        ):
            raise conflict(
                "booking_exists",
                "同一事项同一天只能有一个有效预约 (one live booking per item and day)",
                "item_id",
                "one_booking_per_item_per_day",
            )
        taken = await session.execute(
            sa.update(AppointmentSlot)
            .where(AppointmentSlot.id == slot.id, AppointmentSlot.booked < AppointmentSlot.capacity)
            .values(booked=AppointmentSlot.booked + 1)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 0:  # type: ignore[attr-defined]
            raise conflict("slot_full", "该时段已约满 (the slot is fully booked)", "slot_id", "capacity")
        appointment = Appointment(
            id=uuid.uuid4().hex,
            slot_id=slot.id,
            hall_id=slot.hall_id,
            queue_code=slot.queue_code,
            slot_date=slot.slot_date,
            start_time=slot.start_time,
            id_number=id_number,
            item_id=data.item_id,
            status="booked",
            booked_by=identity.client_id,
            booked_at=now,
            ended_at=None,
            ticket_id=None,
        )
        session.add(appointment)
        await session.flush()
        await write(session, "intake.appointment.booked", AppointmentBooked, appointment, now)
    return appointment


async def visible(
    session: AsyncSession, identity: Identity, appointment_id: str, lock: bool = True
) -> Appointment:
    query = sa.select(Appointment).where(Appointment.id == appointment_id)
    appointment = await session.scalar(query.with_for_update() if lock else query)
    if appointment is None or not may_see_person(identity, appointment.id_number):
        raise not_found("预约 appointment", appointment_id)
    return appointment


async def booked(
    session: AsyncSession, identity: Identity, appointment_id: str, doing: str
) -> tuple[Appointment, AppointmentSlot]:
    appointment = await visible(session, identity, appointment_id)
    if appointment.status != "booked":
        raise conflict(
            "appointment_state",
            f"预约状态为 {appointment.status}，不能{doing} (only a booked appointment)",
            "status",
            "booked",
        )
    slot = await session.get(AppointmentSlot, appointment.slot_id)
    assert slot is not None
    return appointment, slot


async def cancel(
    session: AsyncSession, identity: Identity, appointment_id: str, now: datetime
) -> Appointment:
    async with session.begin():
        appointment, slot = await booked(session, identity, appointment_id, "取消")
        begins, _ = slot_span(slot.slot_date, slot.start_time, slot.duration_min)
        if begins <= now:
            raise conflict(
                "too_late_to_cancel",
                "时段已开始，不能取消 (the slot has begun)",
                "slot_id",
                "before_slot_start",
            )
        appointment.status, appointment.ended_at = "cancelled", now
        await session.execute(
            sa.update(AppointmentSlot)
            .where(AppointmentSlot.id == slot.id)
            .values(booked=AppointmentSlot.booked - 1)
            .execution_options(synchronize_session=False)
        )
        await write(session, "intake.appointment.cancelled", AppointmentCancelled, appointment, now)
    return appointment


async def check_in(
    session: AsyncSession, identity: Identity, appointment_id: str, now: datetime
) -> TicketPublic:
    """At the hall on the day: the booking becomes a priority ticket in the slot's queue."""
    async with session.begin():
        appointment, slot = await booked(session, identity, appointment_id, "签到")
        begins, ends = slot_span(slot.slot_date, slot.start_time, slot.duration_min)
        if not begins - CHECK_IN_EARLY <= now < ends:
            raise conflict(
                "outside_check_in_time",
                f"请在 {slot.slot_date} {slot.start_time} 前一小时内至时段结束前签到 (check-in window)",
                "appointment_id",
                "check_in_window",
            )
        hall = await session.get(Hall, slot.hall_id)
        assert hall is not None
        queue = await queue_for(session, hall.id, None, slot.queue_code)
        await check_open(session, hall, queue, now)
        ticket = await add_ticket(
            session,
            hall,
            queue,
            now,
            priority="appointment",
            channel="appointment",
            issued_by=identity.client_id,
            id_number=appointment.id_number,
            item_id=appointment.item_id,
            appointment_id=appointment.id,
        )
        appointment.status, appointment.ended_at, appointment.ticket_id = "checked_in", now, ticket.id
        await write(
            session,
            "intake.appointment.checked_in",
            AppointmentCheckedIn,
            appointment,
            now,
            ticket_id=ticket.id,
            number=ticket.number,
        )
    return ticket


async def mark_missed(
    session: AsyncSession, identity: Identity, appointment_id: str, now: datetime
) -> Appointment:
    if identity.kind not in ("staff", "operator"):
        raise forbidden("只有大厅工作人员可以登记爽约 (hall staff only)")
    async with session.begin():
        appointment, slot = await booked(session, identity, appointment_id, "登记爽约")
        if now < slot_span(slot.slot_date, slot.start_time, slot.duration_min)[1]:
            raise conflict(
                "slot_not_over", "时段尚未结束 (the slot is not over yet)", "appointment_id", "after_slot_end"
            )
        appointment.status, appointment.ended_at = "no_show", now
        await write(session, "intake.appointment.missed", AppointmentMissed, appointment, now)
    return appointment


async def get(session: AsyncSession, identity: Identity, appointment_id: str) -> Appointment:
    return await visible(session, identity, appointment_id, lock=False)


async def mine(
    session: AsyncSession, identity: Identity, hall_id: str | None, day: date | None
) -> list[Appointment]:
    query = sa.select(Appointment).order_by(Appointment.slot_date, Appointment.start_time).limit(200)
    if identity.kind == "citizen":
        query = query.where(Appointment.id_number == identity.citizen_id)
    elif identity.kind not in ("staff", "operator"):
        raise forbidden("只有市民本人和大厅工作人员可以查看预约 (citizens and hall staff only)")
    if hall_id is not None:
        query = query.where(Appointment.hall_id == hall_id)
    if day is not None:
        query = query.where(Appointment.slot_date == day)
    return list(await session.scalars(query))
