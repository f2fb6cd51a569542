"""data-sharing broker: members, evidence catalogue, access rules, consent, signed hash-chained log

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

GENESIS = b"\x00" * 32
_TS = sa.DateTime(timezone=True)


def _append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'access_log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log "
            "FOR EACH ROW EXECUTE FUNCTION access_log_append_only()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER access_log_no_{action.lower()} BEFORE {action} ON access_log "
            "BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END"
        )


def upgrade() -> None:
    op.create_table(
        "member",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("registered_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("code"),
        sa.UniqueConstraint("credit_code"),
    )
    op.create_table(
        "subsystem",
        sa.Column("member_code", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=True),
        sa.Column("registered_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["member_code"], ["member.code"]),
        sa.PrimaryKeyConstraint("member_code", "code"),
        sa.UniqueConstraint("client_id"),
    )
    op.create_table(
        "certificate_type",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("provider_code", sa.String(length=40), nullable=False),
        sa.Column("subject_kind", sa.String(length=10), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("validity", sa.String(length=12), nullable=False),
        sa.Column("max_age_days", sa.Integer(), nullable=True),
        sa.Column("trust_level", sa.String(length=1), nullable=False),
        sa.Column("consent_required", sa.Boolean(), nullable=False),
        sa.Column("endpoint_url", sa.String(length=300), nullable=True),
        sa.Column("timeout_ms", sa.Integer(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["provider_code"], ["member.code"]),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "access_rule",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("consumer_code", sa.String(length=40), nullable=False),
        sa.Column("certificate_type", sa.String(length=40), nullable=False),
        sa.Column("item_id", sa.String(length=40), nullable=True),
        sa.Column("item_version", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_access_rule_consumer", "access_rule", ["consumer_code", "certificate_type"])
    op.create_table(
        "consent",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("subject_hash", sa.String(length=64), nullable=False),
        sa.Column("subject_mask", sa.String(length=40), nullable=False),
        sa.Column("certificate_type", sa.String(length=40), nullable=False),
        sa.Column("consumer_code", sa.String(length=40), nullable=True),
        sa.Column("item_id", sa.String(length=40), nullable=True),
        sa.Column("case_number", sa.String(length=64), nullable=True),
        sa.Column("given_by", sa.String(length=100), nullable=False),
        sa.Column("given_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=True),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_consent_subject", "consent", ["subject_hash", "certificate_type"])
    op.create_table(
        "access_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("consumer_code", sa.String(length=40), nullable=False),
        sa.Column("subsystem_code", sa.String(length=40), nullable=True),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("officer", sa.String(length=60), nullable=True),
        sa.Column("certificate_type", sa.String(length=400), nullable=False),
        sa.Column("subject_hash", sa.String(length=64), nullable=False),
        sa.Column("subject_mask", sa.String(length=40), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=True),
        sa.Column("item_id", sa.String(length=40), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response_hash", sa.String(length=64), nullable=True),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    op.create_index("ix_access_log_subject", "access_log", ["subject_hash", "seq"])
    op.create_index("ix_access_log_consumer", "access_log", ["consumer_code", "seq"])
    chain = op.create_table(
        "access_chain",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(chain, [{"id": 1, "seq": 0, "prev_hash": GENESIS, "hash": GENESIS}])
    op.create_table(
        "signing_key",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("private_key", sa.LargeBinary(length=32), nullable=True),
        sa.Column("slot", sa.String(length=10), nullable=True),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("kid"),
        sa.UniqueConstraint("slot"),
    )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("fields", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("status_changed_at", _TS, nullable=True))
        batch_op.add_column(sa.Column("status_reason", sa.String(length=200), nullable=True))
    _append_only_triggers()


def downgrade() -> None:
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_column("status_reason")
        batch_op.drop_column("status_changed_at")
        batch_op.drop_column("fields")
        batch_op.drop_column("holder_name")
    op.drop_table("signing_key")
    op.drop_table("access_chain")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS access_log_append_only ON access_log")
        op.execute("DROP FUNCTION IF EXISTS access_log_append_only()")
    op.drop_index("ix_access_log_consumer", table_name="access_log")
    op.drop_index("ix_access_log_subject", table_name="access_log")
    op.drop_table("access_log")  # SQLite drops the table's triggers with it
    op.drop_index("ix_consent_subject", table_name="consent")
    op.drop_table("consent")
    op.drop_index("ix_access_rule_consumer", table_name="access_rule")
    op.drop_table("access_rule")
    op.drop_table("certificate_type")
    op.drop_table("subsystem")
    op.drop_table("member")
