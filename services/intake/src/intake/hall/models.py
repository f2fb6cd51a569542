"""Hall tables: halls, queues, windows, tickets and their serials, appointment slots and bookings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from intake.models import Base
from servicekit.db import UtcDateTime

# A ticket is live while it may still reach a window; one person holds one live ticket per queue.
LIVE_TICKET = ("waiting", "called", "serving")
LIVE_BOOKING = ("booked", "checked_in")


def _status_in(values: tuple[str, ...]) -> sa.TextClause:
    return sa.text("status IN (" + ", ".join(f"'{v}'" for v in values) + ")")


class Hall(Base):
    """A service hall (行政服务中心) and its opening calendar (hours rules, see hall.hours)."""

    __tablename__ = "hall"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    address: Mapped[str | None] = mapped_column(sa.String(200))
    hours: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    max_calls: Mapped[int]  # calls without the citizen showing up before the ticket is a no-show
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Queue(Base):
    """A queue of a hall; its code is the ticket prefix (A → A001)."""

    __tablename__ = "hall_queue"

    hall_id: Mapped[str] = mapped_column(sa.ForeignKey("hall.id"), primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(2), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    category: Mapped[str] = mapped_column(sa.String(20))
    departments: Mapped[list[str]] = mapped_column(sa.JSON)  # items of these departments queue here
    is_default: Mapped[bool]  # items of any other department queue here (综合受理)
    default_service_s: Mapped[int]  # the estimate before any service time was measured


class Window(Base):
    """A counter (窗口); codes are unique platform-wide because a staff token names only the code."""

    __tablename__ = "hall_window"

    code: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    hall_id: Mapped[str] = mapped_column(sa.ForeignKey("hall.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    kind: Mapped[str] = mapped_column(sa.String(20))  # comprehensive / special / output
    department_code: Mapped[str | None] = mapped_column(sa.String(40))
    queues: Mapped[list[str]] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(10))  # open / paused / closed
    pause_reason: Mapped[str | None] = mapped_column(sa.String(100))
    status_changed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Ticket(Base):
    """A hall ticket (号); rows are never deleted: expiry, no-shows and transfers are statuses."""

    __tablename__ = "ticket"
    __table_args__ = (
        sa.ForeignKeyConstraint(["hall_id", "queue_code"], ["hall_queue.hall_id", "hall_queue.code"]),
        sa.UniqueConstraint("hall_id", "queue_code", "service_date", "serial"),
        # The queue order: call next walks it and stops at the first ticket nobody else holds.
        sa.Index(
            "ix_ticket_queue_order",
            "hall_id",
            "service_date",
            "status",
            "priority_rank",
            "queued_at",
            "serial",
        ),
        sa.Index("ix_ticket_finished", "hall_id", "queue_code", "status", "finished_at"),
        sa.Index("ix_ticket_window", "window_code", "status"),
        sa.Index(
            "uq_ticket_live_person",
            "hall_id",
            "queue_code",
            "service_date",
            "id_number",
            unique=True,
            postgresql_where=_status_in(LIVE_TICKET),
            sqlite_where=_status_in(LIVE_TICKET),
        ),
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    hall_id: Mapped[str] = mapped_column(sa.String(40))
    queue_code: Mapped[str] = mapped_column(sa.String(2))
    service_date: Mapped[date]
    serial: Mapped[int]
    number: Mapped[str] = mapped_column(sa.String(8))
    status: Mapped[str] = mapped_column(sa.String(12))
    priority: Mapped[str] = mapped_column(sa.String(12))
    priority_rank: Mapped[int] = mapped_column(sa.SmallInteger)  # 0 priority classes, 1 everyone else
    queued_at: Mapped[datetime] = mapped_column(UtcDateTime())  # order key; a transfer keeps its origin's
    channel: Mapped[str] = mapped_column(sa.String(12))
    id_number: Mapped[str | None] = mapped_column(sa.String(18), index=True)
    item_id: Mapped[str | None] = mapped_column(sa.String(40))
    issued_by: Mapped[str] = mapped_column(sa.String(100))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    window_code: Mapped[str | None] = mapped_column(sa.String(10))
    call_count: Mapped[int]
    first_called_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    called_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    serving_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime()
    )  # transferred, no-show, cancelled, expired
    served_item_id: Mapped[str | None] = mapped_column(sa.String(40))
    application_id: Mapped[str | None] = mapped_column(sa.String(40))
    transferred_from_id: Mapped[str | None] = mapped_column(sa.ForeignKey("ticket.id"))
    appointment_id: Mapped[str | None] = mapped_column(sa.String(32))


class TicketSerial(Base):
    """The last number issued per queue and day: numbering without races (row lock of the upsert)."""

    __tablename__ = "ticket_serial"

    hall_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    queue_code: Mapped[str] = mapped_column(sa.String(2), primary_key=True)
    service_date: Mapped[date] = mapped_column(primary_key=True)
    last: Mapped[int]


class AppointmentSlot(Base):
    """A bookable time of a queue on one day; `booked` only grows under `booked < capacity`."""

    __tablename__ = "appointment_slot"
    __table_args__ = (
        sa.ForeignKeyConstraint(["hall_id", "queue_code"], ["hall_queue.hall_id", "hall_queue.code"]),
        sa.UniqueConstraint("hall_id", "queue_code", "slot_date", "start_time"),
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    hall_id: Mapped[str] = mapped_column(sa.String(40))
    queue_code: Mapped[str] = mapped_column(sa.String(2))
    slot_date: Mapped[date]
    start_time: Mapped[str] = mapped_column(sa.String(5))  # HH:MM, hall-local (Asia/Shanghai)
    duration_min: Mapped[int]
    capacity: Mapped[int]
    booked: Mapped[int]


class Appointment(Base):
    """A booking (预约): booked → checked in (a priority ticket) / cancelled / no-show."""

    __tablename__ = "appointment"
    __table_args__ = (
        sa.Index(
            "uq_appointment_live_item_day",
            "id_number",
            "item_id",
            "slot_date",
            unique=True,
            postgresql_where=_status_in(LIVE_BOOKING),
            sqlite_where=_status_in(LIVE_BOOKING),
        ),
        sa.Index("ix_appointment_day", "hall_id", "slot_date", "status"),
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    slot_id: Mapped[str] = mapped_column(sa.ForeignKey("appointment_slot.id"))
    hall_id: Mapped[str] = mapped_column(sa.String(40))
    queue_code: Mapped[str] = mapped_column(sa.String(2))
    slot_date: Mapped[date]
    start_time: Mapped[str] = mapped_column(sa.String(5))
    id_number: Mapped[str] = mapped_column(sa.String(18), index=True)
    item_id: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(12))
    booked_by: Mapped[str] = mapped_column(sa.String(100))
    booked_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # checked in, cancelled, no-show
    ticket_id: Mapped[str | None] = mapped_column(sa.String(32))
