"""The hall screen and voice (叫号屏, 语音播报): who is called to which window, who is next; an SSE stream."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake.hall import hours, queueing
from intake.hall.clock import local_date
from intake.hall.models import Queue, Ticket, Window
from intake.hall.setup import get_hall

CALLING_SHOWN = 10
NEXT_SHOWN = 5
POLL_S = 1.0  # a screen shows a call within a second; each screen costs one small read per second


class CallShown(BaseModel):
    number: str
    queue_code: str
    window_code: str
    window_name: str
    call_count: int
    called_at: datetime
    announcement: str = Field(description="The text the voice reads, e.g. 请A001号到A03号窗口办理")


class WindowShown(BaseModel):
    code: str
    name: str
    status: str = Field(description="open / paused / closed")
    pause_reason: str | None
    open_now: bool
    current_number: str | None
    current_status: str | None


class QueueShown(BaseModel):
    code: str
    name: str
    waiting: int
    next_numbers: list[str]


class HallDisplay(BaseModel):
    hall_id: str
    hall_name: str
    at: datetime
    open_now: bool
    calling: list[CallShown] = Field(description="Most recent call first")
    windows: list[WindowShown]
    queues: list[QueueShown]


async def display(session: AsyncSession, hall_id: str, now: datetime) -> HallDisplay:
    hall = await get_hall(session, hall_id)
    today = local_date(now)
    windows = (
        await session.scalars(sa.select(Window).where(Window.hall_id == hall_id).order_by(Window.code))
    ).all()
    names = {w.code: w.name for w in windows}
    live = (
        await session.scalars(
            sa.select(Ticket)
            .where(
                Ticket.hall_id == hall_id,
                Ticket.service_date == today,
                Ticket.status.in_(("called", "serving")),
            )
            .order_by(Ticket.called_at.desc())
        )
    ).all()
    at_window = {t.window_code: t for t in live}
    calling = [
        CallShown(
            number=t.number,
            queue_code=t.queue_code,
            window_code=t.window_code or "",
            window_name=names.get(t.window_code or "", ""),
            call_count=t.call_count,
            called_at=t.called_at or now,
            announcement=queueing.announcement(t.number, t.window_code or ""),
        )
        for t in live
        if t.status == "called"
    ][:CALLING_SHOWN]
    queues = []
    for queue in await session.scalars(sa.select(Queue).where(Queue.hall_id == hall_id).order_by(Queue.code)):
        waiting = sa.select(Ticket.number).where(queueing.waiting_in(hall_id, [queue.code], today))
        count = await session.scalar(sa.select(sa.func.count()).select_from(waiting.subquery()))
        first = await session.scalars(waiting.order_by(*queueing.ORDER).limit(NEXT_SHOWN))
        queues.append(
            QueueShown(code=queue.code, name=queue.name, waiting=int(count or 0), next_numbers=list(first))
        )
    return HallDisplay(
        hall_id=hall.id,
        hall_name=hall.name,
        at=now,
        open_now=hours.is_open(hall.hours, now),
        calling=calling,
        windows=[
            WindowShown(
                code=w.code,
                name=w.name,
                status=w.status,
                pause_reason=w.pause_reason,
                open_now=w.status == "open" and hours.is_open(hall.hours, now, [w.code]),
                current_number=at_window[w.code].number if w.code in at_window else None,
                current_status=at_window[w.code].status if w.code in at_window else None,
            )
            for w in windows
        ],
        queues=queues,
    )


def _frame(event: str, data: str, event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event}\ndata: {data}\n\n"


async def stream(
    sessions: async_sessionmaker[AsyncSession],
    hall_id: str,
    clock: Callable[[], datetime],
    seconds: float,
    since: datetime,
    disconnected: Callable[[], Awaitable[bool]],
) -> AsyncIterator[str]:
    """`display` events when the screen changes, `announce` events for calls after `since`.

    Each announce carries the call time as its id, so a reconnecting EventSource (Last-Event-ID)
    hears every call exactly once. The stream ends after `seconds`: a browser reconnects by itself.
    """
    yield "retry: 1000\n\n"
    deadline = time.monotonic() + seconds
    shown, heard = "", set()
    while True:
        async with sessions() as session:
            view = await display(session, hall_id, clock())
        body = view.model_dump_json(exclude={"at"})
        if body != shown:
            shown = body
            yield _frame("display", view.model_dump_json())
        for call in sorted(view.calling, key=lambda c: c.called_at):
            key = (call.number, call.window_code, call.call_count, call.called_at)
            if call.called_at > since and key not in heard:
                heard.add(key)
                text = json.dumps(
                    {"number": call.number, "window_code": call.window_code, "text": call.announcement},
                    ensure_ascii=False,
                )
                yield _frame("announce", text, call.called_at.isoformat())
        if time.monotonic() + POLL_S > deadline or await disconnected():
            return
        await asyncio.sleep(POLL_S)
