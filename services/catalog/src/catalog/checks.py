"""Problems naming the field (RFC 9457), and the reference checks the read endpoints share."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Department, ItemVersion, MainItem
from servicekit.problems import Problem

FieldError = dict[str, str]


def invalid(errors: list[FieldError], detail: str = "请求参数有误 (invalid fields)") -> Problem:
    fields = ", ".join(e["field"] for e in errors)
    return Problem(
        422, "validation_failed", "请求参数有误 Invalid request", f"{detail}: {fields}", errors=errors
    )


def conflict(field: str, detail: str) -> Problem:
    return Problem(
        409,
        "conflict",
        "数据冲突 Conflict",
        detail,
        errors=[{"field": field, "rule": "unique", "message": detail}],
    )


def missing(field: str, detail: str) -> Problem:
    return invalid([{"field": field, "rule": "exists", "message": detail}], detail)


async def check_department(session: AsyncSession, code: str) -> None:
    if await session.get(Department, code) is None:
        raise missing("department", f"部门 {code} 不存在 (unknown department)")


async def check_main_item(session: AsyncSession, base_code: str) -> None:
    """A 主项: a heading, or an item applied for as it is (no parent, sub-item serial 000)."""
    if await session.get(MainItem, base_code) is not None:
        return
    handled = sa.select(ItemVersion.item_id).where(
        ItemVersion.base_code == base_code,
        ItemVersion.parent_base_code.is_(None),
        ItemVersion.status == "published",
    )
    if await session.scalar(handled.limit(1)) is None:
        raise missing("main_item", f"主项 {base_code} 不存在 (unknown main item)")
