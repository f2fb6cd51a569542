"""tasks and supervision: item read model, deadlines, sub-tasks, suspensions, audit, ratings, complaints

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('received', 'suspended')")
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Columns every existing task gets with a value; the rest are nullable.
FILLED = [
    ("item_name", sa.String(200), "''"),
    ("handling_type", sa.String(10), "'承诺件'"),
    ("applicant_kind", sa.String(10), "'person'"),
    ("applicant_id", sa.String(40), "''"),
    ("applicant_name", sa.String(100), "''"),
    ("limit_days", sa.Integer(), "0"),
    ("limit_unit", sa.String(10), "'工作日'"),
    ("suspended_days", sa.Integer(), "0"),
    ("extended_days", sa.Integer(), "0"),
    ("steps", sa.JSON(), "'[]'"),
]
NULLABLE = [
    ("legal_limit_days", sa.Integer()),
    ("legal_limit_unit", sa.String(10)),
    ("result_name", sa.String(200)),
    ("certificate_type", sa.String(40)),
    ("assignee", sa.String(100)),
    ("claimed_at", sa.DateTime(timezone=True)),
    ("decision", sa.String(10)),
    ("decision_reason", sa.Text()),
    ("appeal_rights", sa.Text()),
    ("certificate_number", sa.String(60)),
    ("valid_until", sa.Date()),
    ("decided_at", sa.DateTime(timezone=True)),
    ("decided_date", sa.Date()),
    ("decided_by", sa.String(100)),
    ("days_used", sa.Integer()),
    ("on_time", sa.Boolean()),
]
OPEN_INDEXES = {
    "ix_task_open": ["department_code", "deadline_date", "received_at"],
    "ix_task_open_assignee": ["department_code", "assignee", "deadline_date", "received_at"],
    "ix_task_open_item": ["department_code", "item_id", "deadline_date", "received_at"],
}


def _alter_task() -> None:
    with op.batch_alter_table("task") as batch:
        for name, type_, default in FILLED:
            batch.add_column(sa.Column(name, type_, nullable=False, server_default=sa.text(default)))
        batch.add_column(sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("accepted_date", sa.Date(), nullable=True))
        for name, type_ in NULLABLE:
            batch.add_column(sa.Column(name, type_, nullable=True))
    # Tasks made before deadlines existed were accepted when they were received.
    op.execute("UPDATE task SET accepted_at = received_at, item_name = item_id")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE task SET accepted_date = CAST(received_at AT TIME ZONE 'Asia/Shanghai' AS DATE)")
    else:
        op.execute("UPDATE task SET accepted_date = date(received_at, '+8 hours')")
    with op.batch_alter_table("task") as batch:
        batch.alter_column("accepted_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.alter_column("accepted_date", existing_type=sa.Date(), nullable=False)
        batch.drop_index("ix_task_worklist")
        batch.create_index("ix_task_worklist", ["department_code", "status", "deadline_date", "received_at"])
        for name, columns in OPEN_INDEXES.items():
            batch.create_index(name, columns, postgresql_where=OPEN, sqlite_where=OPEN)
        batch.create_index("ix_task_item_stats", ["item_id", "accepted_date"])
        batch.create_index("ix_task_decided_date", ["decided_date"])


def _create_task_tables() -> None:
    op.create_table(
        "catalog_item",
        sa.Column("item_id", sa.String(40), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("department_code", sa.String(40), nullable=False, index=True),
        sa.Column("handling_type", sa.String(10), nullable=False),
        sa.Column("deciding_department", sa.String(40), nullable=True),
        sa.Column("joint_departments", sa.JSON(), nullable=False),
        sa.Column("promised_limit_days", sa.Integer(), nullable=False),
        sa.Column("promised_limit_unit", sa.String(10), nullable=False),
        sa.Column("legal_limit_days", sa.Integer(), nullable=True),
        sa.Column("legal_limit_unit", sa.String(10), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("result_name", sa.String(200), nullable=True),
        sa.Column("result_certificate_type", sa.String(40), nullable=True),
        sa.Column("effective_to", sa.Date(), nullable=True),
    )
    op.create_table(
        "subtask",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("task_id", sa.String(40), sa.ForeignKey("task.id"), nullable=False),
        sa.Column("department_code", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("conclusion", sa.String(10), nullable=True),
        sa.Column("opinion", sa.Text(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_by", sa.String(100), nullable=True),
        sa.UniqueConstraint("task_id", "department_code"),
        sa.Index("ix_subtask_worklist", "department_code", "status", "due_date"),
    )
    op.create_table(
        "suspension",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("task_id", sa.String(40), sa.ForeignKey("task.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("materials", sa.JSON(), nullable=False),
        sa.Column("step_name", sa.String(50), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_date", sa.Date(), nullable=False),
        sa.Column("started_by", sa.String(100), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_date", sa.Date(), nullable=True),
        sa.Column("ended_by", sa.String(100), nullable=True),
        sa.Column("days", sa.Integer(), nullable=True),
    )
    op.create_table(
        "audit_entry",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("application_id", sa.String(40), nullable=True, index=True),
        sa.Column("subject_kind", sa.String(20), nullable=False),
        sa.Column("subject_id", sa.String(40), nullable=False, index=True),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("actor_kind", sa.String(10), nullable=False),
        sa.Column("department_code", sa.String(40), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_table(
        "certificate_serial",
        sa.Column("prefix", sa.String(60), primary_key=True),
        sa.Column("last", sa.Integer(), nullable=False),
    )


def _create_supervision_tables() -> None:
    op.create_table(
        "rating",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("application_id", sa.String(40), nullable=False),
        sa.Column("task_id", sa.String(40), sa.ForeignKey("task.id"), nullable=False),
        sa.Column("department_code", sa.String(40), nullable=False),
        sa.Column("item_id", sa.String(40), nullable=False),
        sa.Column("stage", sa.String(10), nullable=False),
        sa.Column("follow_up_of", sa.String(40), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rated_date", sa.Date(), nullable=False),
        sa.UniqueConstraint("application_id", "stage", "follow_up_of"),
        sa.Index("ix_rating_stats", "department_code", "rated_date"),
    )
    op.create_table(
        "followup",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("rating_id", sa.String(40), sa.ForeignKey("rating.id"), nullable=False, unique=True),
        sa.Column("application_id", sa.String(40), nullable=False),
        sa.Column("case_number", sa.String(50), nullable=False),
        sa.Column("department_code", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visit_due", sa.Date(), nullable=False),
        sa.Column("rectify_due", sa.Date(), nullable=False),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("visited_date", sa.Date(), nullable=True),
        sa.Column("visited_by", sa.String(100), nullable=True),
        sa.Column("visit_note", sa.Text(), nullable=True),
        sa.Column("rectified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rectified_date", sa.Date(), nullable=True),
        sa.Column("rectified_by", sa.String(100), nullable=True),
        sa.Column("rectify_note", sa.Text(), nullable=True),
        sa.Index("ix_followup_worklist", "department_code", "status"),
    )
    op.create_table(
        "complaint",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("department_code", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("application_id", sa.String(40), nullable=True),
        sa.Column("case_number", sa.String(50), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filed_by", sa.String(100), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_date", sa.Date(), nullable=True),
        sa.Column("answered_by", sa.String(100), nullable=True),
        sa.Index("ix_complaint_worklist", "department_code", "status", "due_date"),
    )
    op.create_table(
        "supervision_alert",
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("subject_id", sa.String(40), primary_key=True),
        sa.Column("due_date", sa.Date(), primary_key=True),
        sa.Column("raised_on", sa.Date(), nullable=False),
    )


def _protect_audit() -> None:
    """The audit trail is append-only in the database itself, whoever connects."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_entry_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'audit_entry is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_entry_immutable BEFORE UPDATE OR DELETE ON audit_entry "
            "FOR EACH ROW EXECUTE FUNCTION audit_entry_immutable()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_entry_no_{event.lower()} BEFORE {event} ON audit_entry "
            "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END"
        )


def upgrade() -> None:
    _alter_task()
    _create_task_tables()
    _create_supervision_tables()
    _protect_audit()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entry_immutable ON audit_entry")
        op.execute("DROP FUNCTION IF EXISTS audit_entry_immutable()")
    for table in ("supervision_alert", "complaint", "followup", "rating", "certificate_serial"):
        op.drop_table(table)
    for table in ("audit_entry", "suspension", "subtask", "catalog_item"):
        op.drop_table(table)  # SQLite drops the table's triggers with it
    with op.batch_alter_table("task") as batch:
        for name in [*OPEN_INDEXES, "ix_task_item_stats", "ix_task_decided_date", "ix_task_worklist"]:
            batch.drop_index(name)
        batch.create_index("ix_task_worklist", ["department_code", "status", "deadline_date"])
        for name in [n for n, *_ in FILLED] + ["accepted_at", "accepted_date"] + [n for n, _ in NULLABLE]:
            batch.drop_column(name)
