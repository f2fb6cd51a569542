"""The item version an application is made under (pinned), and its materials in the chosen 情形.

Every submission reads its item's versions; `ItemVersions` keeps them for a few seconds per app
(INTAKE_ITEM_CACHE_S). The read model is fed by events anyway, so a retirement already reaches it a
moment after the catalogue made it: the cache adds at most those seconds. Loading the versions was
a fifth of a submission's CPU.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from intake.hall.rules import invalid
from intake.models import CatalogItem


class ItemVersions:
    """An item's versions, newest first, read at most every `ttl_s` seconds (0: always read)."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._cached: dict[str, tuple[float, list[CatalogItem]]] = {}

    async def get(self, session: AsyncSession, item_id: str) -> list[CatalogItem]:
        now = time.monotonic()
        hit = self._cached.get(item_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        query = (
            sa.select(CatalogItem).where(CatalogItem.item_id == item_id).order_by(CatalogItem.version.desc())
        )
        versions = list(await session.scalars(query))
        if self.ttl_s > 0:
            if len(self._cached) > 5000:  # the whole catalogue is a few hundred items
                self._cached.clear()
            self._cached[item_id] = (now + self.ttl_s, versions)
        return versions


def _open(version: CatalogItem, today: date) -> bool:
    return version.effective_to is None and version.effective_from <= today


async def applicable_item(
    session: AsyncSession,
    known: ItemVersions,
    item_id: str,
    version: int | None,
    today: date,
    field: str = "item_id",
) -> CatalogItem:
    """The version in force today; a named version must be that one (retired ones are refused)."""
    versions = await known.get(session, item_id)
    current = next((v for v in versions if _open(v, today)), None)
    if current is None:
        retired = bool(versions)
        raise invalid(
            "item_retired" if retired else "unknown_item",
            f"事项 {item_id} {'已废止或尚未生效' if retired else '不存在'} (no version in force)",
            field,
            "published_item",
        )
    if version is not None and version != current.version:
        named = next((v for v in versions if v.version == version), None)
        code = "unknown_item_version" if named is None else "item_version_retired"
        raise invalid(
            code,
            f"事项 {item_id} 第{version}版不可申请，现行为第{current.version}版 (apply under the version in force)",
            field.replace("item_id", "item_version"),
            "version_in_force",
        )
    return current


def situation_materials(
    item: CatalogItem, code: str | None, field: str = "situation_code"
) -> list[dict[str, Any]]:
    """The item's materials that apply in 情形 `code`; an item with situations needs one chosen."""
    situations = item.situations or []
    if not situations:
        if code is not None:
            raise invalid(
                "unknown_situation", f"事项 {item.item_id} 没有情形 (the item has no 情形)", field, "none"
            )
        return list(item.materials)
    chosen = next((s for s in situations if s["code"] == code), None)
    if chosen is None:
        names = "、".join(f"{s['code']} {s['name']}" for s in situations)
        rule = "required" if code is None else "known_situation"
        raise invalid("situation_required", f"请选择情形 (choose a 情形): {names}", field, rule)
    wanted = set(chosen["materials"])
    return [m for m in item.materials if m["name"] in wanted]
