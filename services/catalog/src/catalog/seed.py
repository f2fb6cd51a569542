"""Loads the shipped Wucheng catalogue (data/wucheng) through the normal use cases, events included.

`python -m catalog.seed` (reads CATALOG_DATABASE_URL); the embedded mode calls `load_wucheng`.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog import service
from catalog.models import Department
from catalog.schemas import DepartmentCreate, ItemCreate
from catalog.settings import CatalogSettings
from servicekit.db import make_engine, make_sessionmaker

DATA_DIR = Path(__file__).parent / "data" / "wucheng"
_DEPARTMENT_FIELDS = set(DepartmentCreate.model_fields)
_ITEM_FIELDS = {"base_code", "name", "handling_type", "deciding_level", "trips", "minsheng", "materials"}


def item_from_guide(raw: dict[str, Any]) -> ItemCreate:
    """A shipped guide entry as the catalogue's create schema; the rest of the guide rides along."""
    guide = {k: v for k, v in raw.items() if k not in _ITEM_FIELDS | {"department", "promised_limit"}}
    return ItemCreate(
        item_id=f"{raw['department']}-{raw['base_code']}",
        department_code=raw["department"],
        promised_limit=raw["promised_limit"],
        guide=guide,
        **{k: raw[k] for k in _ITEM_FIELDS if k in raw},
    )


async def load_wucheng(
    sessions: async_sessionmaker[AsyncSession], data_dir: Path = DATA_DIR
) -> tuple[int, int]:
    """Departments and published items; does nothing when departments already exist."""
    async with sessions() as session, session.begin():
        if await session.scalar(sa.select(sa.func.count()).select_from(Department)):
            return 0, 0
    departments = json.loads((data_dir / "departments.json").read_text(encoding="utf-8"))
    for raw in departments:
        async with sessions() as session:
            await service.create_department(
                session, DepartmentCreate(**{k: raw[k] for k in _DEPARTMENT_FIELDS})
            )
    items = 0
    for path in sorted((data_dir / "items").glob("*.json")):
        for raw in json.loads(path.read_text(encoding="utf-8")):
            data = item_from_guide(raw)
            async with sessions() as session:
                await service.create_item(session, data)
            async with sessions() as session:
                await service.publish_item(session, data.item_id)
            items += 1
    return len(departments), items


async def _main() -> None:
    engine = make_engine(CatalogSettings().database_url)
    departments, items = await load_wucheng(make_sessionmaker(engine))
    print(f"loaded {departments} departments and {items} items")
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(_main())
