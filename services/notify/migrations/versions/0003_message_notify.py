"""new messages wake the dispatcher: NOTIFY notify_message after each insert (PostgreSQL only)

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The channel `notify.dispatcher` LISTENs on (notify.wakeup); one NOTIFY per inserting statement,
# delivered at commit, and PostgreSQL folds repeats within one transaction.
CHANNEL = "notify_message"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite (the embedded mode) polls
    op.execute(
        "CREATE FUNCTION message_notify() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER message_notify AFTER INSERT ON message "
        "FOR EACH STATEMENT EXECUTE FUNCTION message_notify()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS message_notify ON message")
    op.execute("DROP FUNCTION IF EXISTS message_notify()")
