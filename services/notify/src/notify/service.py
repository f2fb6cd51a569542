"""Notify use cases."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from notify.models import Message


async def messages_for_case(session: AsyncSession, case_number: str) -> list[Message]:
    rows = await session.scalars(
        sa.select(Message).where(Message.case_number == case_number).order_by(Message.created_at)
    )
    return list(rows)
