"""initial

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from messaging.migration import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("template", sa.String(length=60), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recipient_id", sa.String(length=18), nullable=False),
        sa.Column("case_number", sa.String(length=50), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "template", "channel"),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_case_number"), ["case_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_recipient_id"), ["recipient_id"], unique=False)

    create_messaging_tables()


def downgrade() -> None:
    drop_messaging_tables()
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_recipient_id"))
        batch_op.drop_index(batch_op.f("ix_message_case_number"))

    op.drop_table("message")
