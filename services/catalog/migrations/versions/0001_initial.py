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
        "department",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("short_name", sa.String(length=40), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("window", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("hours", sa.String(length=300), nullable=False),
        sa.Column("complaint_phone", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("code"),
        sa.UniqueConstraint("credit_code"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "item_version",
        sa.Column("item_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("base_code", sa.String(length=12), nullable=False),
        sa.Column("implementation_code", sa.String(length=33), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("department_code", sa.String(length=40), nullable=False),
        sa.Column("item_type", sa.String(length=20), nullable=False),
        sa.Column("handling_type", sa.String(length=10), nullable=False),
        sa.Column("deciding_level", sa.String(length=10), nullable=False),
        sa.Column("promised_limit_days", sa.Integer(), nullable=False),
        sa.Column("promised_limit_unit", sa.String(length=10), nullable=False),
        sa.Column("trips", sa.Integer(), nullable=False),
        sa.Column("minsheng", sa.Boolean(), nullable=False),
        sa.Column("guide", sa.JSON(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["department.code"],
        ),
        sa.PrimaryKeyConstraint("item_id", "version"),
        sa.UniqueConstraint("implementation_code", "version"),
    )
    with op.batch_alter_table("item_version", schema=None) as batch_op:
        batch_op.create_index("ix_item_version_status", ["status", "department_code"], unique=False)

    create_messaging_tables()


def downgrade() -> None:
    drop_messaging_tables()
    with op.batch_alter_table("item_version", schema=None) as batch_op:
        batch_op.drop_index("ix_item_version_status")

    op.drop_table("item_version")
    op.drop_table("department")
