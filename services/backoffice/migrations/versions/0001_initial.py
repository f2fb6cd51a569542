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
        "task",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("application_id", sa.String(length=40), nullable=False),
        sa.Column("case_number", sa.String(length=50), nullable=False),
        sa.Column("item_id", sa.String(length=40), nullable=False),
        sa.Column("item_version", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id"),
        sa.UniqueConstraint("case_number"),
    )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index(
            "ix_task_worklist", ["department_code", "status", "deadline_date"], unique=False
        )

    create_messaging_tables()


def downgrade() -> None:
    drop_messaging_tables()
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_worklist")

    op.drop_table("task")
