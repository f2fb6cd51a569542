"""Alembic helpers so each service's migration 0001 creates the same outbox and inbox tables.

Frozen with migration 0001: a later change to the messaging tables gets a new helper and a new
migration in every service, never an edit here.
"""

from __future__ import annotations

from alembic import op

from messaging.relay import NOTIFY_CHANNEL
from messaging.tables import inbox, outbox


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
