"""Loads the shipped Wucheng catalogue (data/wucheng) through the normal use cases, events included.

`python -m catalog.seed` (reads CATALOG_DATABASE_URL); the embedded mode calls `load_wucheng`.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog import service
from catalog.models import Department
from catalog.schemas import DepartmentCreate, ItemSpec, MainItemCreate
from catalog.settings import CatalogSettings
from servicekit.db import make_engine, make_sessionmaker

DATA_DIR = Path(__file__).parent / "data" / "wucheng"
_DEPARTMENT_FIELDS = set(DepartmentCreate.model_fields)


def shipped_main_items(data_dir: Path = DATA_DIR) -> list[MainItemCreate]:
    raw = json.loads((data_dir / "main_items.json").read_text(encoding="utf-8"))
    return [MainItemCreate.model_validate(main) for main in raw]


def shipped_items(data_dir: Path = DATA_DIR) -> list[ItemSpec]:
    return [
        ItemSpec.model_validate(raw)
        for path in sorted((data_dir / "items").glob("*.json"))
        for raw in json.loads(path.read_text(encoding="utf-8"))
    ]


async def load_wucheng(
    sessions: async_sessionmaker[AsyncSession], data_dir: Path = DATA_DIR
) -> tuple[int, int]:
    """Departments, 主项 and published items; does nothing when departments already exist."""
    async with sessions() as session, session.begin():
        if await session.scalar(sa.select(sa.func.count()).select_from(Department)):
            return 0, 0
    departments = json.loads((data_dir / "departments.json").read_text(encoding="utf-8"))
    for raw in departments:
        async with sessions() as session:
            await service.create_department(
                session, DepartmentCreate(**{k: raw[k] for k in _DEPARTMENT_FIELDS})
            )
    for main in shipped_main_items(data_dir):
        async with sessions() as session:
            await service.create_main_item(session, main)
    items = shipped_items(data_dir)
    today = date.today()
    for spec in items:
        async with sessions() as session, session.begin():
            await service.stage_item(session, spec)
            await service.publish_staged(session, spec.resolved_item_id(), today)
    return len(departments), len(items)


async def _main() -> None:
    engine = make_engine(CatalogSettings().database_url)
    departments, items = await load_wucheng(make_sessionmaker(engine))
    print(f"loaded {departments} departments and {items} items")
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(_main())
