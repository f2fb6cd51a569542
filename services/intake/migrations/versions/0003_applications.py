"""applications: item versions complete, application materials, files, history, bundles, 容缺, bad credit, output, pre-checks

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _flag(name: str) -> sa.Column:
    return sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())


def _text(name: str, length: int) -> sa.Column:
    return sa.Column(name, sa.String(length=length), nullable=True)


def item_columns() -> list[sa.Column]:
    # Fresh objects each call: a Column belongs to one table, and up/down/up runs in one process.
    return [
        sa.Column("situations", sa.JSON(), nullable=False, server_default="[]"),
        sa.Column("joint_departments", sa.JSON(), nullable=False, server_default="[]"),
        _text("deciding_department", 40),
        sa.Column("legal_limit_days", sa.Integer(), nullable=True),
        _text("legal_limit_unit", 10),
        _text("result_name", 200),
        _text("result_certificate_type", 40),
    ]


def application_columns() -> list[sa.Column]:
    return [
        _text("request_hash", 64),
        _text("item_name", 200),
        _text("handling_type", 10),
        _text("deciding_level", 10),
        _text("deciding_department", 40),
        _text("situation_code", 20),
        _text("applicant_phone", 20),
        _text("legal_representative", 100),
        _text("legal_representative_id", 18),
        _text("agent_id", 18),
        _text("agent_name", 100),
        _text("agent_phone", 20),
        _text("ticket_id", 32),
        _text("bundle_id", 32),
        _text("precheck_id", 32),
        _text("submitted_by", 100),
        _flag("one_certificate"),
        _flag("instant"),
        _flag("rongque"),
        sa.Column("promised_date", sa.Date(), nullable=True),
        _at("status_changed_at"),
        _text("decision", 12),
        _at("decided_at"),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        _text("delivery_method", 10),
        _at("delivered_at"),
        sa.Column("materials", sa.JSON(), nullable=False, server_default="[]"),
    ]


APPLICATION_INDEXES = {
    "ix_application_accepted": ["accepted_at"],
    "ix_application_status": ["status"],
    "ix_application_deciding_department": ["deciding_department"],
    "ix_application_legal_representative_id": ["legal_representative_id"],
    "ix_application_agent_id": ["agent_id"],
    "ix_application_bundle_id": ["bundle_id"],
}


def upgrade() -> None:
    with op.batch_alter_table("catalog_item") as batch:
        for column in item_columns():
            batch.add_column(column)
    with op.batch_alter_table("application") as batch:
        for column in application_columns():
            batch.add_column(column)
        for name, columns in APPLICATION_INDEXES.items():
            batch.create_index(name, columns)
    op.create_table(
        "stored_file",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        _text("filename", 200),
        sa.Column("uploader_client", sa.String(length=100), nullable=False),
        _text("uploader_citizen", 18),
        sa.Column("stored_in", sa.String(length=4), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        _at("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_stored_file_sha256", "stored_file", ["sha256"])
    op.create_table(
        "status_change",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.String(length=40), sa.ForeignKey("application.id"), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        _at("at", nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        _text("reason", 500),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_status_change_application_id", "status_change", ["application_id"])
    op.create_table(
        "bundle",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("applicant_id", sa.String(length=18), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        _text("idempotency_key", 100),
        _text("request_hash", 64),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        _at("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index("ix_bundle_applicant_id", "bundle", ["applicant_id"])
    op.create_table(
        "rongque_promise",
        sa.Column("application_id", sa.String(length=40), sa.ForeignKey("application.id"), nullable=False),
        sa.Column("materials", sa.JSON(), nullable=False),
        sa.Column("promise_text", sa.String(length=500), nullable=False),
        sa.Column("signed_name", sa.String(length=100), nullable=False),
        _at("signed_at", nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("deadline_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("warned_on", sa.Date(), nullable=True),
        _at("closed_at"),
        sa.PrimaryKeyConstraint("application_id"),
    )
    op.create_index("ix_rongque_open", "rongque_promise", ["status", "deadline_date"])
    op.create_table(
        "bad_credit_entry",
        sa.Column("subject_id", sa.String(length=18), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("listed_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("subject_id"),
    )
    op.create_table(
        "output",
        sa.Column("application_id", sa.String(length=40), sa.ForeignKey("application.id"), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        _text("pickup_place", 200),
        _text("code_hash", 200),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _text("recipient_name", 100),
        _text("recipient_phone", 20),
        _text("address", 300),
        _text("courier", 50),
        _text("tracking_number", 20),
        _at("updated_at", nullable=False),
        _at("delivered_at"),
        _text("handed_over_by", 100),
        sa.PrimaryKeyConstraint("application_id"),
        sa.UniqueConstraint("tracking_number"),
    )
    op.create_table(
        "precheck",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("subject_hash", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=40), nullable=False),
        sa.Column("item_version", sa.Integer(), nullable=False),
        _text("situation_code", 20),
        sa.Column("materials", sa.JSON(), nullable=False),
        _text("resolution_id", 64),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        _at("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    for table in (
        "precheck",
        "output",
        "bad_credit_entry",
        "rongque_promise",
        "bundle",
        "status_change",
        "stored_file",
    ):
        op.drop_table(table)
    with op.batch_alter_table("application") as batch:
        for name in APPLICATION_INDEXES:
            batch.drop_index(name)
        for column in application_columns():
            batch.drop_column(column.name)
    with op.batch_alter_table("catalog_item") as batch:
        for column in item_columns():
            batch.drop_column(column.name)
