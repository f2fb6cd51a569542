"""Notify use cases."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from notify.models import Message
from servicekit.identity import Identity


async def messages_for_case(session: AsyncSession, identity: Identity, case_number: str) -> list[Message]:
    """A citizen sees only messages addressed to them; operators see all."""
    query = sa.select(Message).where(Message.case_number == case_number)
    if identity.kind != "operator":
        query = query.where(Message.recipient_id == (identity.citizen_id or ""))
    return list(await session.scalars(query.order_by(Message.created_at)))
