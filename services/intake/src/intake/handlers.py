"""Intake's consumers: the item read model from `catalog.items` (no synchronous catalogue calls), and
the back office's progress and decisions from `backoffice.tasks` (出件 follows a decision)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.catalog import ItemPublished, ItemRetired
from contracts.envelope import Event
from contracts.topics import BACKOFFICE_TASKS, CATALOG_ITEMS
from intake.applications.context import build_context
from intake.applications.outcomes import decided_handler, task_received, task_resumed, task_suspended
from intake.models import CatalogItem
from intake.settings import ApplicationOptions
from servicekit.worker import Subscribe


async def item_published(session: AsyncSession, event: Event) -> None:
    data = ItemPublished.model_validate(event.data)
    values = data.model_dump(include=set(CatalogItem.__table__.columns.keys()) - {"effective_to"})
    values["materials"] = [m.model_dump() for m in data.materials]
    existing = await session.get(CatalogItem, (data.item_id, data.version))
    if existing is None:
        session.add(CatalogItem(**values, effective_to=None))
    else:  # a replayed or re-published version: the event is the truth
        for key, value in values.items():
            setattr(existing, key, value)


async def item_retired(session: AsyncSession, event: Event) -> None:
    data = ItemRetired.model_validate(event.data)
    await session.execute(
        sa.update(CatalogItem)
        .where(CatalogItem.item_id == data.item_id, CatalogItem.version == data.version)
        .values(effective_to=data.effective_to)
    )


# The handlers' own context: they hand results over (pickup codes, the courier), never call datashare.
HANDLING = build_context(ApplicationOptions(), b"")

SUBSCRIPTIONS = [
    Subscribe(
        group="intake",
        topics=[CATALOG_ITEMS.name],
        handlers={"catalog.item.published": item_published, "catalog.item.retired": item_retired},
    ),
    # A group of its own, so the item read model keeps flowing while a decision is retried.
    Subscribe(
        group="intake-outcomes",
        topics=[BACKOFFICE_TASKS.name],
        handlers={
            "backoffice.task.received": task_received,
            "backoffice.task.suspended": task_suspended,
            "backoffice.task.resumed": task_resumed,
            "backoffice.task.decided": decided_handler(HANDLING),
        },
    ),
]
