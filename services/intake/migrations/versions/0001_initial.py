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
        "case_serial",
        sa.Column("prefix", sa.String(length=45), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix"),
    )
    op.create_table(
        "catalog_item",
        sa.Column("item_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("implementation_code", sa.String(length=33), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("department_code", sa.String(length=40), nullable=False),
        sa.Column("handling_type", sa.String(length=10), nullable=False),
        sa.Column("deciding_level", sa.String(length=10), nullable=False),
        sa.Column("promised_limit_days", sa.Integer(), nullable=False),
        sa.Column("promised_limit_unit", sa.String(length=10), nullable=False),
        sa.Column("trips", sa.Integer(), nullable=False),
        sa.Column("minsheng", sa.Boolean(), nullable=False),
        sa.Column("materials", sa.JSON(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("item_id", "version"),
    )
    op.create_table(
        "application",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("case_number", sa.String(length=50), nullable=False),
        sa.Column("item_id", sa.String(length=40), nullable=False),
        sa.Column("item_version", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(length=40), nullable=False),
        sa.Column("applicant_kind", sa.String(length=10), nullable=False),
        sa.Column("applicant_id", sa.String(length=18), nullable=False),
        sa.Column("applicant_name", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id", "item_version"],
            ["catalog_item.item_id", "catalog_item.version"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_number"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_application_applicant_id"), ["applicant_id"], unique=False)

    create_messaging_tables()


def downgrade() -> None:
    drop_messaging_tables()
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_applicant_id"))

    op.drop_table("application")
    op.drop_table("catalog_item")
    op.drop_table("case_serial")
