"""delivery lifecycle, contact book, read models, dead letters and alerts

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# 0001 left its unique constraint unnamed: PostgreSQL named it, SQLite's batch mode needs a
# naming convention to find it (alembic's documented way for unnamed constraints).
_OLD_UNIQUE = "message_event_id_template_channel_key"
_NAMES = {"uq": "%(table_name)s_%(column_0_name)s_%(column_1_name)s_%(column_2_name)s_key"}


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_created_at"), ["created_at"], unique=False)

    op.create_table(
        "case_recipient",
        sa.Column("case_number", sa.String(length=50), nullable=False),
        sa.Column("application_id", sa.String(length=40), nullable=False),
        sa.Column("applicant_id", sa.String(length=18), nullable=False),
        sa.Column("applicant_name", sa.String(length=100), nullable=False),
        sa.Column("item_id", sa.String(length=40), nullable=False),
        sa.Column("department_code", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("case_number"),
    )
    with op.batch_alter_table("case_recipient", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_recipient_application_id"), ["application_id"], unique=False
        )

    op.create_table(
        "contact",
        sa.Column("owner_id", sa.String(length=40), nullable=False),
        sa.Column("subject_hash", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=50), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("push_id", sa.String(length=200), nullable=True),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("quiet_start", sa.Time(), nullable=False),
        sa.Column("quiet_end", sa.Time(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner_id"),
    )
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_subject_hash"), ["subject_hash"], unique=False)

    op.create_table(
        "dead_letter",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redriven_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dead_letter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dead_letter_message_id"), ["message_id"], unique=False)

    op.create_table(
        "item_name",
        sa.Column("item_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("item_id"),
    )
    op.create_table(
        "parked_event",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("case_number", sa.String(length=50), nullable=False),
        sa.Column("envelope", sa.JSON(), nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    with op.batch_alter_table("parked_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_parked_event_case_number"), ["case_number"], unique=False)

    with op.batch_alter_table("message", schema=None, naming_convention=_NAMES) as batch_op:
        batch_op.add_column(sa.Column("event_type", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("address", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("subject", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("title", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("html", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("segments", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("provider", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("provider_reference", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("callback_token_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column(
            "recipient_id",
            existing_type=sa.VARCHAR(length=18),
            type_=sa.String(length=40),
            existing_nullable=False,
        )
        batch_op.create_index("ix_message_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_subject"), ["subject"], unique=False)
        # One event may now reach several recipients (every ticket whose turn is near).
        batch_op.drop_constraint(_OLD_UNIQUE, type_="unique")
        batch_op.create_unique_constraint(
            "uq_message_delivery", ["event_id", "template", "channel", "recipient_id"]
        )


def downgrade() -> None:
    # Department recipients (dept:<code>) do not fit the old column: their messages go with it.
    op.execute("DELETE FROM message WHERE length(recipient_id) > 18")
    with op.batch_alter_table("message", schema=None, naming_convention=_NAMES) as batch_op:
        batch_op.drop_constraint("uq_message_delivery", type_="unique")
        batch_op.create_unique_constraint(_OLD_UNIQUE, ["event_id", "template", "channel"])
        batch_op.drop_index(batch_op.f("ix_message_subject"))
        batch_op.drop_index("ix_message_due")
        batch_op.alter_column(
            "recipient_id",
            existing_type=sa.String(length=40),
            type_=sa.VARCHAR(length=18),
            existing_nullable=False,
        )
        batch_op.drop_column("read_at")
        batch_op.drop_column("completed_at")
        batch_op.drop_column("sent_at")
        batch_op.drop_column("callback_token_hash")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("provider_reference")
        batch_op.drop_column("provider")
        batch_op.drop_column("reason")
        batch_op.drop_column("urgent")
        batch_op.drop_column("segments")
        batch_op.drop_column("html")
        batch_op.drop_column("title")
        batch_op.drop_column("subject")
        batch_op.drop_column("address")
        batch_op.drop_column("event_type")

    with op.batch_alter_table("parked_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parked_event_case_number"))

    op.drop_table("parked_event")
    op.drop_table("item_name")
    with op.batch_alter_table("dead_letter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dead_letter_message_id"))

    op.drop_table("dead_letter")
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_subject_hash"))

    op.drop_table("contact")
    with op.batch_alter_table("case_recipient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_recipient_application_id"))

    op.drop_table("case_recipient")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_created_at"))

    op.drop_table("alert")
