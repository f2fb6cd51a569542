"""The item read model as the hall and the item route use it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from intake.models import CatalogItem
from servicekit.problems import not_found


async def current_item(session: AsyncSession, item_id: str) -> CatalogItem | None:
    return await session.scalar(
        sa.select(CatalogItem)
        .where(CatalogItem.item_id == item_id, CatalogItem.effective_to.is_(None))
        .order_by(CatalogItem.version.desc())
        .limit(1)
    )


async def get_item(session: AsyncSession, item_id: str) -> CatalogItem:
    item = await current_item(session, item_id)
    if item is None:
        raise not_found("事项 item", item_id)
    return item
