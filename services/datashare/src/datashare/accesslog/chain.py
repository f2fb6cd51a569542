"""The hash chain: appends serialise on the single-row head, verification walks it link by link."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from datashare.models import AccessChain, AccessLogEntry
from messaging.tables import outbox

GENESIS = b"\x00" * 32
_CHAIN = cast(sa.Table, AccessChain.__table__)
_LOG = cast(sa.Table, AccessLogEntry.__table__)
# The columns that repeat the canonical entry (everything but the chain's own columns).
ENTRY_COLUMNS = tuple(c.name for c in _LOG.columns if c.name not in {"seq", "entry", "prev_hash", "hash"})


@dataclass(frozen=True)
class Link:
    seq: int
    hash: bytes


def link_hash(prev_hash: bytes, seq: int, entry: bytes) -> bytes:
    return hashlib.sha256(prev_hash + seq.to_bytes(8, "big") + hashlib.sha256(entry).digest()).digest()


@asynccontextmanager
async def atomic(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection where each write is atomic on its own.

    PostgreSQL: autocommit, because the append is one statement: the chain head's row lock is
    taken and released inside the server, never held across a round trip to this process (whose
    event loop may be busy with other requests). SQLite: one BEGIN IMMEDIATE transaction, which
    already serialises writers.
    """
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")
    else:
        async with engine.begin() as conn:
            yield conn


async def append(conn: AsyncConnection, record: dict[str, Any], event_row: dict[str, Any] | None) -> Link:
    """Append `record` (values of ENTRY_COLUMNS) and, when given, its outbox row, atomically."""
    entry = json.dumps(
        {k: (v.astimezone(UTC).isoformat() if k == "at" else v) for k, v in record.items()},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    if conn.dialect.name == "postgresql":
        return await _append_in_one_statement(conn, record, entry, event_row)
    head = (await conn.execute(sa.select(_CHAIN.c.seq, _CHAIN.c.hash).where(_CHAIN.c.id == 1))).one()
    seq, new_hash = head.seq + 1, link_hash(head.hash, head.seq + 1, entry.encode())
    await conn.execute(
        _LOG.insert().values(**record, seq=seq, entry=entry, prev_hash=head.hash, hash=new_hash)
    )
    await conn.execute(
        _CHAIN.update().where(_CHAIN.c.id == 1).values(seq=seq, prev_hash=head.hash, hash=new_hash)
    )
    if event_row is not None:
        await conn.execute(outbox.insert().values(**event_row))
    return Link(seq, new_hash)


_OUTBOX_COLUMNS = ("event_id", "topic", "key", "event_type", "headers", "payload", "created_at")


def _one_statement_append(with_event: bool) -> sa.Insert:
    """Chain head update, log row (and outbox row) in one statement, built once with bind parameters."""
    next_seq = _CHAIN.c.seq + 1
    digest = sa.bindparam("digest", type_=sa.LargeBinary)
    chained = _CHAIN.c.hash.op("||")(sa.func.int8send(next_seq)).op("||")(digest)
    head = (
        sa.update(_CHAIN)
        .where(_CHAIN.c.id == 1)
        # SET reads the old row: prev_hash gets the old hash, hash the new link.
        .values(seq=next_seq, prev_hash=_CHAIN.c.hash, hash=sa.func.sha256(chained, type_=sa.LargeBinary))
        .returning(_CHAIN.c.seq, _CHAIN.c.prev_hash, _CHAIN.c.hash)
        .cte("head")
    )
    names = [*ENTRY_COLUMNS, "entry"]
    # Parameter names must not be column names: an UPDATE would add those columns to its SET.
    values = [sa.bindparam(f"log_{name}", type_=_LOG.c[name].type).label(name) for name in names]
    rows = sa.select(*values, head.c.seq, head.c.prev_hash, head.c.hash)
    statement = (
        sa.insert(_LOG)
        .from_select([*names, "seq", "prev_hash", "hash"], rows)
        .returning(_LOG.c.seq, _LOG.c.hash)
    )
    if with_event:
        row = {c: sa.bindparam(f"outbox_{c}", type_=outbox.c[c].type) for c in _OUTBOX_COLUMNS}
        statement = statement.add_cte(sa.insert(outbox).values(row).cte("released"))
    return statement


_APPEND = {False: _one_statement_append(False), True: _one_statement_append(True)}


async def _append_in_one_statement(
    conn: AsyncConnection, record: dict[str, Any], entry: str, event_row: dict[str, Any] | None
) -> Link:
    params = {f"log_{k}": v for k, v in record.items()}
    params.update(log_entry=entry, digest=hashlib.sha256(entry.encode()).digest())
    if event_row is not None:
        params.update({f"outbox_{c}": event_row[c] for c in _OUTBOX_COLUMNS})
    row = (await conn.execute(_APPEND[event_row is not None], params)).one()
    return Link(row.seq, row.hash)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    head_seq: int
    head_hash: bytes
    broken_seq: int | None = None
    reason: str | None = None


def _disagreement(row: Any) -> str | None:
    """The first column that no longer says what the hashed entry says."""
    recorded = json.loads(row.entry)
    for name in ENTRY_COLUMNS:
        value = getattr(row, name)
        if name == "at":
            value = value.astimezone(UTC).isoformat()
        if recorded.get(name) != value:
            return f"column {name} differs from the hashed entry (列值被改动)"
    return None


async def verify(session: AsyncSession, batch: int = 2000) -> Verdict:
    """Walk the chain from the genesis; report the first broken link."""
    head = (await session.execute(sa.select(_CHAIN.c.seq, _CHAIN.c.hash).where(_CHAIN.c.id == 1))).one()
    prev, expected = GENESIS, 1
    while True:
        rows = (
            await session.execute(
                sa.select(_LOG).where(_LOG.c.seq >= expected).order_by(_LOG.c.seq).limit(batch)
            )
        ).all()
        for row in rows:
            problem = None
            if row.seq != expected:
                problem = f"entries {expected}..{row.seq - 1} are missing (日志条目缺失)"
            elif row.prev_hash != prev:
                problem = "prev_hash does not match the previous entry (链接断开)"
            elif link_hash(prev, row.seq, row.entry.encode()) != row.hash:
                problem = "hash does not match the entry (条目被篡改)"
            else:
                problem = _disagreement(row)
            if problem is not None:
                return Verdict(False, expected - 1, head.seq, head.hash, min(row.seq, expected), problem)
            prev, expected = row.hash, expected + 1
        if len(rows) < batch:
            break
    checked = expected - 1
    if head.seq != checked or head.hash != prev:
        reason = f"the chain head is at {head.seq} but the log ends at {checked} (日志被截断)"
        return Verdict(False, checked, head.seq, head.hash, checked + 1, reason)
    return Verdict(True, checked, head.seq, head.hash)
