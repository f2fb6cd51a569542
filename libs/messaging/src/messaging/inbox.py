"""The inbox: one row per (consumer, event id) handled, written in the handler's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import Event
from messaging.tables import inbox

# One statement for any number of events: an IN list or a VALUES list per batch size would be a
# new prepared statement for every size, and asyncpg's statement cache would churn.
_PG_INSERT_MANY = sa.text(
    "INSERT INTO inbox (consumer, event_id, event_type, processed_at) "
    "SELECT CAST(:consumer AS varchar), e.id, e.type, CAST(:now AS timestamptz) "
    "FROM unnest(CAST(:ids AS varchar[]), CAST(:types AS varchar[])) AS e(id, type) "
    "ON CONFLICT DO NOTHING RETURNING event_id"
)
# SQLite's limit on bound parameters (32,766) / 4 columns, with room to spare.
_SQLITE_ROWS_PER_INSERT = 2_000


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "postgresql"


async def mark_processed(session: AsyncSession, consumer: str, event: Event) -> bool:
    """Insert the inbox row; False when this consumer already processed the event."""
    return event.id in await mark_all_processed(session, consumer, [event])


async def mark_all_processed(session: AsyncSession, consumer: str, events: Sequence[Event]) -> set[str]:
    """Insert the inbox rows of `events` in bulk; returns the ids that were new to this consumer.

    An id already in the inbox, or repeated within `events`, is skipped by ON CONFLICT DO NOTHING.
    """
    if not events:
        return set()
    now = datetime.now(UTC)
    if _dialect(session) == "postgresql":
        result = await session.execute(
            _PG_INSERT_MANY,
            {
                "consumer": consumer,
                "now": now,
                "ids": [e.id for e in events],
                "types": [e.type for e in events],
            },
        )
        return {row[0] for row in result}
    fresh: set[str] = set()
    for start in range(0, len(events), _SQLITE_ROWS_PER_INSERT):
        chunk = events[start : start + _SQLITE_ROWS_PER_INSERT]
        stmt = (
            sqlite.insert(inbox)
            .values(
                [
                    {"consumer": consumer, "event_id": e.id, "event_type": e.type, "processed_at": now}
                    for e in chunk
                ]
            )
            .on_conflict_do_nothing()
            .returning(inbox.c.event_id)
        )
        fresh.update(row[0] for row in await session.execute(stmt))
    return fresh
