"""How a commit wakes the PostgreSQL relay: NOTIFY on the outbox channel, sent only while a relay waits.

Every NOTIFY takes a database-wide lock at commit and holds it until the commit is flushed, so
notifying transactions commit one at a time, without group commit: 8 concurrent clients writing a
business row and an outbox row committed 1,694 transactions/s with a NOTIFY each, 4,070 with this
conditional trigger and 3,332 with no trigger at all (pgbench medians, fsync on, 2 shared cores).
So the trigger notifies only when no relay is running through the outbox anyway:

- an outbox insert takes the advisory lock WAKE_LOCK in shared mode, held to the end of its
  transaction, and sends NOTIFY only if it cannot (`pg_try_advisory_xact_lock_shared`);
- a relay that found nothing to publish takes WAKE_LOCK exclusively on its LISTEN connection
  before it waits. That waits until every writer that did not notify has committed or rolled
  back; the relay then looks at the outbox once more and waits for a NOTIFY, which every writer
  that starts from then on sends. It releases the lock when it wakes.

A relay that cannot take the lock within 20 ms (a long transaction holds it shared, or another
relay waits already) polls at that pace instead. The trigger of migration 0001
(messaging.migration.create_messaging_tables) notifies on every insert; the relay works with both,
and a later migration calling messaging.migration.notify_only_idle_relays switches to this one.
"""

from __future__ import annotations

NOTIFY_CHANNEL = "outbox"
# Advisory locks share one key space per database: 0x6f7574626f78 is "outbox" in ASCII.
WAKE_LOCK = 0x6F7574626F78

PLAIN_NOTIFY_SQL = (
    "CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN PERFORM pg_notify('{NOTIFY_CHANNEL}', ''); RETURN NULL; END $$"
)
CONDITIONAL_NOTIFY_SQL = (
    "CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN IF NOT pg_try_advisory_xact_lock_shared({WAKE_LOCK}) THEN "
    f"PERFORM pg_notify('{NOTIFY_CHANNEL}', ''); END IF; RETURN NULL; END $$"
)
# One NOTIFY (at most) per inserting statement, delivered at commit.
TRIGGER_SQL = (
    "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()"
)
