"""Case numbers (办件编号): implementation code + yyyyMMdd + 4-digit serial, unique under concurrency."""

from __future__ import annotations

from datetime import date
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from intake.models import CaseSerial
from servicekit.problems import Problem


async def next_serial(session: AsyncSession, prefix: str) -> int:
    """The next number after `prefix`'s last; the upsert's row lock serialises concurrent takers.

    A transaction that rolls back leaves its number unused: numbers are unique, gaps are allowed.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = cast(sa.Table, CaseSerial.__table__)  # Core: the ORM's DML path cost more than the trip
    upsert = (
        insert(table)
        .values(prefix=prefix, last=1)
        .on_conflict_do_update(index_elements=["prefix"], set_={"last": table.c.last + 1})
        .returning(table.c.last)
    )
    serial: int = (await session.execute(upsert)).scalar_one()
    return serial


async def next_case_number(session: AsyncSession, implementation_code: str, day: date) -> str:
    prefix = implementation_code + day.strftime("%Y%m%d")
    serial = await next_serial(session, prefix)
    if serial > 9999:
        raise Problem(503, "case_serial_exhausted", "今日编号已用尽 Serials exhausted", prefix)
    return f"{prefix}{serial:04d}"
