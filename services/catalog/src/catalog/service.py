"""Catalog use cases; each opens exactly one transaction and writes its events in it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from govcodes.itemcode import ITEM_TYPES, InvalidItemCode, implementation_code
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Department, ItemVersion
from catalog.schemas import DepartmentCreate, ItemCreate
from contracts.catalog import ItemPublished, ItemRetired, MaterialSpec
from contracts.envelope import Event, new_event
from messaging.outbox import add_event
from servicekit.logs import request_id_var
from servicekit.problems import Problem, not_found

SOURCE = "/catalog"


def _conflict(field: str, detail: str) -> Problem:
    return Problem(
        409,
        "conflict",
        "数据冲突 Conflict",
        detail,
        errors=[{"field": field, "rule": "unique", "message": detail}],
    )


def _invalid(field: str, rule: str, detail: str) -> Problem:
    return Problem(
        422,
        "validation_failed",
        "请求参数有误 Invalid request",
        detail,
        errors=[{"field": field, "rule": rule, "message": detail}],
    )


async def create_department(session: AsyncSession, data: DepartmentCreate) -> Department:
    async with session.begin():
        clash = await session.scalar(
            sa.select(Department.code).where(
                sa.or_(
                    Department.code == data.code,
                    Department.name == data.name,
                    Department.credit_code == data.credit_code,
                )
            )
        )
        if clash is not None:
            raise _conflict("code", f"部门 {data.code} / {data.name} 已存在 (department exists)")
        department = Department(**data.model_dump())
        session.add(department)
    return department


async def create_item(session: AsyncSession, data: ItemCreate) -> ItemVersion:
    """Create the next draft version of an item (version 1 for a new item)."""
    async with session.begin():
        department = await session.get(Department, data.department_code)
        if department is None:
            raise _invalid(
                "department_code", "exists", f"部门 {data.department_code} 不存在 (unknown department)"
            )
        try:
            impl = implementation_code(department.credit_code, department.level, data.base_code)
        except InvalidItemCode as exc:
            raise _invalid("base_code", "item_code", str(exc)) from exc
        latest = await session.scalar(
            sa.select(ItemVersion)
            .where(ItemVersion.item_id == data.item_id)
            .order_by(ItemVersion.version.desc())
        )
        if latest is not None and latest.status == "draft":
            raise _conflict("item_id", f"事项 {data.item_id} 已有草稿版本 {latest.version} (a draft exists)")
        if latest is None:
            clash = await session.scalar(
                sa.select(ItemVersion.item_id).where(ItemVersion.implementation_code == impl)
            )
            if clash is not None:
                raise _conflict("base_code", f"实施编码 {impl} 已被事项 {clash} 使用 (duplicate code)")
        guide = {**data.guide, "materials": [m.model_dump() for m in data.materials]}
        item = ItemVersion(
            item_id=data.item_id,
            version=1 if latest is None else latest.version + 1,
            status="draft",
            base_code=data.base_code,
            implementation_code=impl,
            name=data.name,
            department_code=data.department_code,
            item_type=ITEM_TYPES[data.base_code[2:4]],
            handling_type=data.handling_type,
            deciding_level=data.deciding_level,
            promised_limit_days=data.promised_limit.value,
            promised_limit_unit=data.promised_limit.unit,
            trips=data.trips,
            minsheng=data.minsheng,
            guide=guide,
            effective_from=data.effective_from,
            created_at=datetime.now(UTC),
        )
        session.add(item)
    return item


async def publish_item(session: AsyncSession, item_id: str, today: date | None = None) -> ItemVersion:
    """Publish the draft; the previously published version is retired the same day."""
    today = today or date.today()
    async with session.begin():
        versions = (
            await session.scalars(
                sa.select(ItemVersion)
                .where(ItemVersion.item_id == item_id)
                .order_by(ItemVersion.version.desc())
                .with_for_update()
            )
        ).all()
        if not versions:
            raise not_found("事项 item", item_id)
        draft = versions[0]
        if draft.status != "draft":
            raise Problem(
                409,
                "invalid_state",
                "状态不允许 Invalid state",
                f"事项 {item_id} 没有待发布的草稿 (no draft)",
            )
        for old in versions[1:]:
            if old.status == "published":
                old.status, old.effective_to = "retired", today
                retired = ItemRetired(item_id=item_id, version=old.version, effective_to=today)
                await add_event(session, _event("catalog.item.retired", item_id, retired))
        draft.status = "published"
        draft.published_at = datetime.now(UTC)
        draft.effective_from = draft.effective_from or today
        await add_event(session, _event("catalog.item.published", item_id, _published(draft)))
    return draft


def _published(item: ItemVersion) -> ItemPublished:
    assert item.effective_from is not None
    return ItemPublished(
        item_id=item.item_id,
        version=item.version,
        base_code=item.base_code,
        implementation_code=item.implementation_code,
        name=item.name,
        department_code=item.department_code,
        handling_type=item.handling_type,
        deciding_level=item.deciding_level,
        promised_limit_days=item.promised_limit_days,
        promised_limit_unit=item.promised_limit_unit,
        trips=item.trips,
        minsheng=item.minsheng,
        materials=[MaterialSpec.model_validate(m) for m in item.guide.get("materials", [])],
        effective_from=item.effective_from,
    )


def _event(event_type: str, item_id: str, data: ItemPublished | ItemRetired) -> Event:
    return new_event(
        type=event_type, source=SOURCE, subject=item_id, data=data, requestid=request_id_var.get()
    )


async def get_item(session: AsyncSession, item_id: str, version: int | None = None) -> ItemVersion:
    query = sa.select(ItemVersion).where(ItemVersion.item_id == item_id)
    if version is None:
        query = query.where(ItemVersion.status == "published")
    else:
        query = query.where(ItemVersion.version == version)
    item = await session.scalar(query.order_by(ItemVersion.version.desc()).limit(1))
    if item is None:
        raise not_found("事项 item", item_id if version is None else f"{item_id} v{version}")
    return item


async def list_items(
    session: AsyncSession, *, q: str | None, department: str | None, offset: int, limit: int
) -> tuple[list[ItemVersion], int]:
    """Published items; plain name matching until the search index (jieba, pinyin) lands."""
    where = [ItemVersion.status == "published"]
    if q:
        where.append(ItemVersion.name.contains(q, autoescape=True))
    if department:
        where.append(ItemVersion.department_code == department)
    total = await session.scalar(sa.select(sa.func.count()).select_from(ItemVersion).where(*where))
    rows = await session.scalars(
        sa.select(ItemVersion).where(*where).order_by(ItemVersion.base_code).offset(offset).limit(limit)
    )
    return list(rows), int(total or 0)
