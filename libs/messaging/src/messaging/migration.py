"""Alembic helpers so each service's migrations create the same outbox and inbox tables and trigger.

`create_messaging_tables`/`drop_messaging_tables` are frozen with migration 0001: a later change
to the messaging tables gets a new helper (as `notify_only_idle_relays`) and a new migration in
every service, never an edit of an existing helper.
"""

from __future__ import annotations

from alembic import op

from messaging.tables import inbox, outbox
from messaging.wakeup import CONDITIONAL_NOTIFY_SQL, NOTIFY_CHANNEL, PLAIN_NOTIFY_SQL


def create_messaging_tables() -> None:
    bind = op.get_bind()
    outbox.create(bind)
    inbox.create(bind)
    if bind.dialect.name == "postgresql":
        # One NOTIFY per inserting statement wakes the relay at commit; no extra round trip.
        op.execute(
            "CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN PERFORM pg_notify('{NOTIFY_CHANNEL}', ''); RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
            "FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()"
        )


def drop_messaging_tables() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
        op.execute("DROP FUNCTION IF EXISTS outbox_notify()")
    inbox.drop(bind)
    outbox.drop(bind)


def notify_only_idle_relays() -> None:
    """The outbox trigger NOTIFYs only while a relay waits for one (messaging.wakeup says why)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CONDITIONAL_NOTIFY_SQL)


def notify_every_insert() -> None:
    """The downgrade of `notify_only_idle_relays`: the trigger function of migration 0001."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PLAIN_NOTIFY_SQL)
