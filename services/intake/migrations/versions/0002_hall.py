"""hall: halls, queues, windows, tickets, appointment slots and appointments

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

LIVE_TICKET = sa.text("status IN ('waiting', 'called', 'serving')")
LIVE_BOOKING = sa.text("status IN ('booked', 'checked_in')")


def _at(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "hall",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("hours", sa.JSON(), nullable=False),
        sa.Column("max_calls", sa.Integer(), nullable=False),
        _at("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "ticket_serial",
        sa.Column("hall_id", sa.String(length=40), nullable=False),
        sa.Column("queue_code", sa.String(length=2), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hall_id", "queue_code", "service_date"),
    )
    op.create_table(
        "hall_queue",
        sa.Column("hall_id", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("departments", sa.JSON(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("default_service_s", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["hall_id"], ["hall.id"]),
        sa.PrimaryKeyConstraint("hall_id", "code"),
    )
    op.create_table(
        "hall_window",
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("hall_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("department_code", sa.String(length=40), nullable=True),
        sa.Column("queues", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("pause_reason", sa.String(length=100), nullable=True),
        _at("status_changed_at", nullable=False),
        sa.ForeignKeyConstraint(["hall_id"], ["hall.id"]),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index("ix_hall_window_hall_id", "hall_window", ["hall_id"])
    op.create_table(
        "appointment_slot",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("hall_id", sa.String(length=40), nullable=False),
        sa.Column("queue_code", sa.String(length=2), nullable=False),
        sa.Column("slot_date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.String(length=5), nullable=False),
        sa.Column("duration_min", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["hall_id", "queue_code"], ["hall_queue.hall_id", "hall_queue.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hall_id", "queue_code", "slot_date", "start_time"),
    )
    op.create_table(
        "ticket",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("hall_id", sa.String(length=40), nullable=False),
        sa.Column("queue_code", sa.String(length=2), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("priority", sa.String(length=12), nullable=False),
        sa.Column("priority_rank", sa.SmallInteger(), nullable=False),
        _at("queued_at", nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=True),
        sa.Column("item_id", sa.String(length=40), nullable=True),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        _at("issued_at", nullable=False),
        sa.Column("window_code", sa.String(length=10), nullable=True),
        sa.Column("call_count", sa.Integer(), nullable=False),
        _at("first_called_at"),
        _at("called_at"),
        _at("serving_started_at"),
        _at("finished_at"),
        _at("ended_at"),
        sa.Column("served_item_id", sa.String(length=40), nullable=True),
        sa.Column("application_id", sa.String(length=40), nullable=True),
        sa.Column("transferred_from_id", sa.String(length=32), nullable=True),
        sa.Column("appointment_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["hall_id", "queue_code"], ["hall_queue.hall_id", "hall_queue.code"]),
        sa.ForeignKeyConstraint(["transferred_from_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hall_id", "queue_code", "service_date", "serial"),
    )
    op.create_index("ix_ticket_id_number", "ticket", ["id_number"])
    op.create_index(
        "ix_ticket_queue_order",
        "ticket",
        ["hall_id", "service_date", "status", "priority_rank", "queued_at", "serial"],
    )
    op.create_index("ix_ticket_finished", "ticket", ["hall_id", "queue_code", "status", "finished_at"])
    op.create_index("ix_ticket_window", "ticket", ["window_code", "status"])
    op.create_index(
        "uq_ticket_live_person",
        "ticket",
        ["hall_id", "queue_code", "service_date", "id_number"],
        unique=True,
        postgresql_where=LIVE_TICKET,
        sqlite_where=LIVE_TICKET,
    )
    op.create_table(
        "appointment",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("slot_id", sa.String(length=32), nullable=False),
        sa.Column("hall_id", sa.String(length=40), nullable=False),
        sa.Column("queue_code", sa.String(length=2), nullable=False),
        sa.Column("slot_date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.String(length=5), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("item_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("booked_by", sa.String(length=100), nullable=False),
        _at("booked_at", nullable=False),
        _at("ended_at"),
        sa.Column("ticket_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["slot_id"], ["appointment_slot.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_appointment_day", "appointment", ["hall_id", "slot_date", "status"])
    op.create_index("ix_appointment_id_number", "appointment", ["id_number"])
    op.create_index(
        "uq_appointment_live_item_day",
        "appointment",
        ["id_number", "item_id", "slot_date"],
        unique=True,
        postgresql_where=LIVE_BOOKING,
        sqlite_where=LIVE_BOOKING,
    )


def downgrade() -> None:
    # Dropping a table drops its indexes; children before parents for the foreign keys.
    for table in (
        "appointment",
        "ticket",
        "appointment_slot",
        "hall_window",
        "hall_queue",
        "ticket_serial",
        "hall",
    ):
        op.drop_table(table)
