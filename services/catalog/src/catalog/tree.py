"""Reading the hierarchy: an item's 主项, parent and 办理项, and the tree of published items under each 主项."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from catalog.checks import check_department
from catalog.derived import Level
from catalog.models import ItemVersion, MainItem
from catalog.schemas import MainItemCreate
from servicekit.problems import not_found


class Ref(BaseModel):
    """Another node of the hierarchy, by name: a 主项 has no item_id (it is not applied for)."""

    level: Level
    base_code: str
    name: str
    item_id: str | None = None
    handling_suffix: str | None = None


class Place(BaseModel):
    """Where an item sits: its 主项, the item a 办理项 belongs to, and its own 办理项."""

    level: Level
    main_item: Ref | None = Field(default=None, description="The 主项 of a 子项 (or of a 办理项's 子项)")
    parent: Ref | None = Field(default=None, description="The item a 办理项 belongs to")
    children: list[Ref] = Field(default_factory=list, description="Its 业务办理项")


class TreeNode(Ref):
    department: str
    children: list[TreeNode] = Field(default_factory=list)


def main_item_of(data: MainItemCreate) -> MainItem:
    return MainItem(
        base_code=data.base_code,
        name=data.name,
        item_type=data.type,
        department_code=data.department,
        legal_basis=data.legal_basis,
    )


def main_item_spec(main: MainItem) -> MainItemCreate:
    return MainItemCreate(
        base_code=main.base_code,
        department=main.department_code,
        name=main.name,
        type=main.item_type,
        legal_basis=main.legal_basis,
    )


def _published() -> sa.Select[ItemVersion]:
    return sa.select(ItemVersion).where(ItemVersion.status == "published")


def _ref(item: ItemVersion) -> Ref:
    return Ref(
        level=item.level,
        base_code=item.base_code,
        name=item.name,
        item_id=item.item_id,
        handling_suffix=item.handling_suffix,
    )


async def _handling(session: AsyncSession, item: ItemVersion) -> list[ItemVersion]:
    query = _published().where(
        ItemVersion.department_code == item.department_code,
        ItemVersion.base_code == item.base_code,
        ItemVersion.handling_suffix.is_not(None),
    )
    return list(await session.scalars(query.order_by(ItemVersion.handling_suffix)))


async def handling_items(session: AsyncSession, item: ItemVersion) -> list[str]:
    """The published 办理项 of an item (none for a 办理项 itself)."""
    return [] if item.handling_suffix else [h.item_id for h in await _handling(session, item)]


async def place_of(session: AsyncSession, item: ItemVersion) -> Place:
    place = Place(level=item.level)
    if item.parent_base_code is not None:
        main = await session.get(MainItem, item.parent_base_code)
        if main is not None:
            place.main_item = Ref(level="主项", base_code=main.base_code, name=main.name)
    if item.handling_suffix:
        owner = await session.scalar(
            _published().where(
                ItemVersion.department_code == item.department_code,
                ItemVersion.base_code == item.base_code,
                ItemVersion.handling_suffix.is_(None),
            )
        )
        place.parent = _ref(owner) if owner is not None else None
    else:
        place.children = [_ref(h) for h in await _handling(session, item)]
    return place


def _node(item: ItemVersion) -> TreeNode:
    return TreeNode(**_ref(item).model_dump(), department=item.department_code)


def build_tree(mains: Sequence[MainItem], items: Sequence[ItemVersion]) -> list[TreeNode]:
    """主项 (headings, and items applied for as they are) with their 子项, each with its 办理项."""
    handled = {(i.department_code, i.base_code): (i, _node(i)) for i in items if not i.handling_suffix}
    for item in sorted((i for i in items if i.handling_suffix), key=lambda i: i.handling_suffix or ""):
        if (owner := handled.get((item.department_code, item.base_code))) is not None:
            owner[1].children.append(_node(item))
    roots = {
        m.base_code: TreeNode(level="主项", base_code=m.base_code, name=m.name, department=m.department_code)
        for m in mains
    }
    top: list[TreeNode] = list(roots.values())
    for item, node in sorted(handled.values(), key=lambda pair: pair[1].base_code):
        parent = roots.get(item.parent_base_code or "")
        (parent.children if parent is not None else top).append(node)
    return sorted(top, key=lambda n: (n.base_code, n.department))


async def tree(session: AsyncSession, department: str | None, root: str | None = None) -> list[TreeNode]:
    async with session.begin():
        if department is not None:
            await check_department(session, department)
        mains_query = sa.select(MainItem)
        items_query = _published().options(
            load_only(
                ItemVersion.item_id,
                ItemVersion.version,
                ItemVersion.name,
                ItemVersion.base_code,
                ItemVersion.department_code,
                ItemVersion.parent_base_code,
                ItemVersion.handling_suffix,
            )
        )
        if department is not None:
            items_query = items_query.where(ItemVersion.department_code == department)
        if root is not None:
            mains_query = mains_query.where(MainItem.base_code == root)
            items_query = items_query.where(ItemVersion.base_code.startswith(root[:9]))
        mains = list(await session.scalars(mains_query))
        items = list(await session.scalars(items_query))
    nodes = build_tree(mains, items)
    if department is not None:  # a 主项 shows where the department implements one of its 子项, or lists it
        nodes = [n for n in nodes if n.department == department or n.children]
    if root is not None:
        nodes = [n for n in nodes if n.base_code == root and n.level == "主项"]
        if not nodes:
            raise not_found("主项 main item", root)
    return nodes
