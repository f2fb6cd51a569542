"""Catalog use cases; each opens exactly one transaction and writes its events in it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from govcodes.itemcode import InvalidItemCode, implementation_code
from sqlalchemy.ext.asyncio import AsyncSession

from catalog import events, tree
from catalog.checks import FieldError, conflict, invalid
from catalog.guide import GuideView, build_guide
from catalog.hierarchy import load_hierarchy
from catalog.models import Department, ItemVersion, MainItem
from catalog.schemas import DepartmentCreate, ItemSpec, MainItemCreate
from catalog.search import index_item, unindex_item
from messaging.outbox import add_event
from servicekit.problems import Problem, not_found


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
            raise conflict("code", f"部门 {data.code} / {data.name} 已存在 (department exists)")
        department = Department(**data.model_dump())
        session.add(department)
    return department


def reference_errors(
    spec: ItemSpec, departments: Mapping[str, Department], owners: Mapping[str, str]
) -> list[FieldError]:
    """What in `spec` points at nothing: departments, or an implementation code another item uses."""
    errors: list[FieldError] = []
    for field, codes in (
        ("department", [spec.department]),
        ("joint_departments", spec.joint_departments),
        ("deciding_department", [spec.deciding_department] if spec.deciding_department else []),
    ):
        errors += [
            {"field": field, "rule": "exists", "message": f"unknown department {code}"}
            for code in codes
            if code not in departments
        ]
    if errors:
        return errors
    try:
        impl = _implementation_code(departments[spec.department], spec)
    except InvalidItemCode as exc:
        return [{"field": "base_code", "rule": "item_code", "message": str(exc)}]
    owner = owners.get(impl)
    if owner is not None and owner != spec.resolved_item_id():
        errors.append(
            {"field": "base_code", "rule": "unique", "message": f"implementation code {impl} is {owner}'s"}
        )
    return errors


def _implementation_code(department: Department, spec: ItemSpec) -> str:
    suffix = spec.handling_suffix or ""
    return implementation_code(department.credit_code, department.level, spec.base_code, suffix)


def _named_departments(spec: ItemSpec) -> set[str]:
    named = {spec.department, *spec.joint_departments}
    return named | ({spec.deciding_department} if spec.deciding_department else set())


async def load_references(
    session: AsyncSession, specs: Sequence[ItemSpec], more_departments: Iterable[str] = ()
) -> tuple[dict[str, Department], dict[str, str]]:
    """The departments named and the owners of the specs' implementation codes, in two queries."""
    named = set(more_departments).union(*(_named_departments(spec) for spec in specs))
    departments = {
        d.code: d for d in await session.scalars(sa.select(Department).where(Department.code.in_(named)))
    }
    codes = set()
    for spec in specs:
        if (department := departments.get(spec.department)) is not None:
            with contextlib.suppress(InvalidItemCode):
                codes.add(_implementation_code(department, spec))
    rows = await session.execute(
        sa.select(ItemVersion.implementation_code, ItemVersion.item_id).where(
            ItemVersion.implementation_code.in_(codes)
        )
    )
    return departments, {impl: item_id for impl, item_id in rows}


async def stage_item(session: AsyncSession, spec: ItemSpec, *, checked: bool = False) -> ItemVersion:
    """The next draft version of an item, inside the caller's transaction.

    `checked`: an import has validated the whole file already, against itself as well (a 办理项 may
    come before the item it belongs to), so its references and places are not looked up again.
    """
    if not checked:
        departments, owners = await load_references(session, [spec])
        errors = reference_errors(spec, departments, owners)
        if errors := errors or (await load_hierarchy(session, [spec])).item_errors(spec):
            raise invalid(errors)
    item_id = spec.resolved_item_id()
    department = await session.get(Department, spec.department)
    assert department is not None
    latest = await session.scalar(
        sa.select(ItemVersion)
        .where(ItemVersion.item_id == item_id)
        .order_by(ItemVersion.version.desc())
        .limit(1)
    )
    if latest is not None and latest.status == "draft":
        raise conflict("item_id", f"事项 {item_id} 已有草稿版本 {latest.version} (a draft exists)")
    item = ItemVersion(
        item_id=item_id,
        version=1 if latest is None else latest.version + 1,
        status="draft",
        base_code=spec.base_code,
        implementation_code=_implementation_code(department, spec),
        name=spec.name,
        parent_base_code=spec.parent_base_code,
        handling_suffix=spec.handling_suffix,
        department_code=spec.department,
        item_type=spec.type,
        handling_type=spec.handling_type,
        deciding_level=spec.deciding_level,
        promised_limit_days=spec.promised_limit.value,
        promised_limit_unit=spec.promised_limit.unit,
        trips=spec.trips,
        minsheng=spec.minsheng,
        guide=spec.model_dump(mode="json", exclude={"item_id", "effective_from"}),
        effective_from=spec.effective_from,
        created_at=datetime.now(UTC),
    )
    session.add(item)
    await session.flush()
    return item


async def create_item(session: AsyncSession, spec: ItemSpec) -> ItemVersion:
    async with session.begin():
        return await stage_item(session, spec)


async def publish_staged(session: AsyncSession, item_id: str, today: date) -> ItemVersion:
    """Publish the draft inside the caller's transaction; the published version before it retires."""
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
            409, "invalid_state", "状态不允许 Invalid state", f"事项 {item_id} 没有待发布的草稿 (no draft)"
        )
    draft.effective_from = draft.effective_from or today
    for old in versions[1:]:
        if old.status != "published":
            continue
        if old.effective_from is not None and draft.effective_from < old.effective_from:
            message = (
                f"must not be before the current version's {old.effective_from} (versions may not overlap)"
            )
            raise invalid([{"field": "effective_from", "rule": "no_overlap", "message": message}])
        # A same-day revision (a corrected guide) replaces the old version from that day on.
        old.status = "retired"
        old.effective_to = max(
            old.effective_from or draft.effective_from, draft.effective_from - timedelta(days=1)
        )
        await add_event(session, events.retired(old))
    draft.status = "published"
    draft.published_at = datetime.now(UTC)
    await index_item(session, draft)
    await add_event(session, events.published(draft))
    return draft


async def publish_item(session: AsyncSession, item_id: str, today: date | None = None) -> ItemVersion:
    async with session.begin():
        return await publish_staged(session, item_id, today or date.today())


async def retire_item(session: AsyncSession, item_id: str, today: date | None = None) -> ItemVersion:
    """Withdraw the published version without a successor (事项取消)."""
    today = today or date.today()
    async with session.begin():
        item = await session.scalar(
            sa.select(ItemVersion)
            .where(ItemVersion.item_id == item_id, ItemVersion.status == "published")
            .with_for_update()
        )
        if item is None:
            raise not_found("已发布事项 published item", item_id)
        if handling := await tree.handling_items(session, item):
            detail = f"事项下还有业务办理项，请先撤销 (retire its handling items first): {handling}"
            raise conflict("item_id", detail)
        item.status, item.effective_to = "retired", today
        await unindex_item(session, item_id)
        await add_event(session, events.retired(item))
    return item


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


async def guide_for(session: AsyncSession, item_id: str, situation: str | None) -> GuideView:
    async with session.begin():
        item = await get_item(session, item_id)
        department = await session.get(Department, item.department_code)
        assert department is not None
        place = await tree.place_of(session, item)
    return build_guide(item, department, situation, place)


async def create_main_item(session: AsyncSession, data: MainItemCreate) -> MainItem:
    async with session.begin():
        if await session.get(MainItem, data.base_code) is not None:
            raise conflict("base_code", f"主项 {data.base_code} 已存在 (main item exists)")
        if await session.get(Department, data.department) is None:
            message = f"unknown department {data.department}"
            raise invalid([{"field": "department", "rule": "exists", "message": message}])
        if errors := (await load_hierarchy(session, [], [data])).main_item_errors(data):
            raise invalid(errors)
        main = tree.main_item_of(data)
        session.add(main)
    return main
