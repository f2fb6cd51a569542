"""Setting a hall up: halls, queues, windows and their status (open, paused with a reason, closed)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from intake.hall.models import Hall, Queue, Window
from intake.hall.rules import check_manages_window, conflict, invalid
from intake.hall.schemas import (
    HallCreate,
    HallPublic,
    HoursRule,
    QueueCreate,
    QueuePublic,
    WindowCreate,
    WindowPublic,
    WindowUpdate,
)
from servicekit.identity import Identity
from servicekit.problems import not_found


async def create_hall(session: AsyncSession, data: HallCreate, now: datetime) -> Hall:
    async with session.begin():
        if await session.get(Hall, data.id) is not None:
            raise conflict("hall_exists", f"大厅 {data.id} 已存在 (hall exists)", "id", "unique")
        hall = Hall(
            id=data.id,
            name=data.name,
            address=data.address,
            max_calls=data.max_calls,
            hours=[rule.model_dump() for rule in data.hours],
            created_at=now,
        )
        session.add(hall)
    return hall


async def get_hall(session: AsyncSession, hall_id: str) -> Hall:
    hall = await session.get(Hall, hall_id)
    if hall is None:
        raise not_found("大厅 hall", hall_id)
    return hall


async def hall_view(session: AsyncSession, hall_id: str) -> HallPublic:
    hall = await get_hall(session, hall_id)
    queues = await session.scalars(sa.select(Queue).where(Queue.hall_id == hall_id).order_by(Queue.code))
    windows = await session.scalars(sa.select(Window).where(Window.hall_id == hall_id).order_by(Window.code))
    return HallPublic(
        id=hall.id,
        name=hall.name,
        address=hall.address,
        max_calls=hall.max_calls,
        hours=[HoursRule.model_validate(rule) for rule in hall.hours],
        queues=[QueuePublic.model_validate(q) for q in queues],
        windows=[WindowPublic.model_validate(w) for w in windows],
    )


async def list_halls(session: AsyncSession) -> list[HallPublic]:
    ids = (await session.scalars(sa.select(Hall.id).order_by(Hall.id))).all()
    return [await hall_view(session, hall_id) for hall_id in ids]


async def create_queue(session: AsyncSession, hall_id: str, data: QueueCreate) -> Queue:
    async with session.begin():
        await get_hall(session, hall_id)
        if await session.get(Queue, (hall_id, data.code)) is not None:
            raise conflict("queue_exists", f"队列 {data.code} 已存在 (queue exists)", "code", "unique")
        if data.is_default and await session.scalar(
            sa.select(Queue.code).where(Queue.hall_id == hall_id, Queue.is_default)
        ):
            raise conflict(
                "default_queue_exists",
                "大厅已有默认队列 (one default queue per hall)",
                "is_default",
                "one_default",
            )
        queue = Queue(hall_id=hall_id, **data.model_dump())
        session.add(queue)
    return queue


async def _check_queues(session: AsyncSession, hall_id: str, codes: list[str]) -> None:
    known = set(await session.scalars(sa.select(Queue.code).where(Queue.hall_id == hall_id)))
    if unknown := sorted(set(codes) - known):
        raise invalid(
            "unknown_queue", f"队列不存在 (unknown queues): {', '.join(unknown)}", "queues", "exists"
        )


async def create_window(session: AsyncSession, hall_id: str, data: WindowCreate, now: datetime) -> Window:
    async with session.begin():
        await get_hall(session, hall_id)
        if await session.get(Window, data.code) is not None:
            raise conflict(
                "window_exists", f"窗口 {data.code} 已存在 (window codes are unique)", "code", "unique"
            )
        await _check_queues(session, hall_id, data.queues)
        window = Window(
            hall_id=hall_id,
            **data.model_dump(),
            status="open",
            pause_reason=None,
            status_changed_at=now,
        )
        session.add(window)
    return window


async def get_window(session: AsyncSession, code: str) -> Window:
    window = await session.get(Window, code)
    if window is None:
        raise not_found("窗口 window", code)
    return window


async def update_window(session: AsyncSession, code: str, data: WindowUpdate, now: datetime) -> Window:
    async with session.begin():
        window = await get_window(session, code)
        if data.queues is not None:
            await _check_queues(session, window.hall_id, data.queues)
            window.queues = list(data.queues)
        if data.name is not None:
            window.name = data.name
        if data.status is not None and data.status != window.status:
            window.status, window.pause_reason, window.status_changed_at = data.status, None, now
    return window


async def pause_window(
    session: AsyncSession, identity: Identity, code: str, reason: str, now: datetime
) -> Window:
    check_manages_window(identity, code)
    async with session.begin():
        window = await get_window(session, code)
        if window.status != "open":
            raise conflict(
                "window_not_open",
                f"窗口状态为 {window.status}，不能暂停 (only an open window pauses)",
                "status",
                "open",
            )
        window.status, window.pause_reason, window.status_changed_at = "paused", reason, now
    return window


async def resume_window(session: AsyncSession, identity: Identity, code: str, now: datetime) -> Window:
    check_manages_window(identity, code)
    async with session.begin():
        window = await get_window(session, code)
        if window.status != "paused":
            raise conflict(
                "window_not_paused",
                f"窗口状态为 {window.status}，无需恢复 (only a paused window resumes)",
                "status",
                "paused",
            )
        window.status, window.pause_reason, window.status_changed_at = "open", None, now
    return window
