"""Hall routes for setup (operators), the screen and its stream (anyone), and figures (hall staff)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, status
from fastapi.responses import StreamingResponse

from intake.hall import display, setup, slots, stats
from intake.hall.clock import NowDep, hall_now, local_date
from intake.hall.closing import close_day
from intake.hall.rules import invalid, unique_guard
from intake.hall.schemas import (
    HALL_ID,
    QUEUE_CODE,
    WINDOW_CODE,
    CloseDay,
    DayClosed,
    HallCreate,
    HallPublic,
    PauseRequest,
    QueueCreate,
    QueuePublic,
    SlotPublic,
    SlotsCreate,
    SlotsCreated,
    WindowCreate,
    WindowPublic,
    WindowUpdate,
)
from servicekit.auth import requires
from servicekit.deps import SessionDep
from servicekit.identity import Identity

router = APIRouter(tags=["hall"])
# Hall data, free slots and the screen name no person: everyone who reads the catalogue sees them.
PUBLIC = [Depends(requires("catalog:read"))]
ADMIN = [Depends(requires("admin"))]
Operating = Annotated[Identity, Depends(requires("hall:operate"))]
HallIdPath = Annotated[str, Path(pattern=HALL_ID)]
WindowPath = Annotated[str, Path(pattern=WINDOW_CODE)]
FirstDay = Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(2100, 12, 31))]
STATS_DAYS = 92


@router.post("/halls", status_code=status.HTTP_201_CREATED, response_model=HallPublic, dependencies=ADMIN)
async def create_hall(body: HallCreate, session: SessionDep, now: NowDep) -> HallPublic:
    async with unique_guard("hall_exists", "大厅已存在 (hall exists)", "id", "unique"):
        await setup.create_hall(session, body, now)
    return await setup.hall_view(session, body.id)


@router.get("/halls", response_model=list[HallPublic], dependencies=PUBLIC)
async def list_halls(session: SessionDep) -> list[HallPublic]:
    return await setup.list_halls(session)


@router.get("/halls/{hall_id}", response_model=HallPublic, dependencies=PUBLIC)
async def get_hall(hall_id: HallIdPath, session: SessionDep) -> HallPublic:
    """The hall with its opening hours (常规, 错时, 延时), queues and windows."""
    return await setup.hall_view(session, hall_id)


@router.post(
    "/halls/{hall_id}/queues",
    status_code=status.HTTP_201_CREATED,
    response_model=QueuePublic,
    dependencies=ADMIN,
)
async def create_queue(hall_id: HallIdPath, body: QueueCreate, session: SessionDep) -> QueuePublic:
    async with unique_guard("queue_exists", "队列已存在 (queue exists)", "code", "unique"):
        return QueuePublic.model_validate(await setup.create_queue(session, hall_id, body))


@router.post(
    "/halls/{hall_id}/windows",
    status_code=status.HTTP_201_CREATED,
    response_model=WindowPublic,
    dependencies=ADMIN,
)
async def create_window(
    hall_id: HallIdPath, body: WindowCreate, session: SessionDep, now: NowDep
) -> WindowPublic:
    async with unique_guard("window_exists", "窗口已存在 (window exists)", "code", "unique"):
        return WindowPublic.model_validate(await setup.create_window(session, hall_id, body, now))


@router.patch("/windows/{window_code}", response_model=WindowPublic, dependencies=ADMIN)
async def update_window(
    window_code: WindowPath, body: WindowUpdate, session: SessionDep, now: NowDep
) -> WindowPublic:
    """Rename, change the queues served, or open / close (not staffed) a window."""
    return WindowPublic.model_validate(await setup.update_window(session, window_code, body, now))


@router.post("/windows/{window_code}/pause", response_model=WindowPublic)
async def pause_window(
    window_code: WindowPath, body: PauseRequest, session: SessionDep, identity: Operating, now: NowDep
) -> WindowPublic:
    """Pause with a reason (the screen shows it); the window's staff or an operator."""
    return WindowPublic.model_validate(
        await setup.pause_window(session, identity, window_code, body.reason, now)
    )


@router.post("/windows/{window_code}/resume", response_model=WindowPublic)
async def resume_window(
    window_code: WindowPath, session: SessionDep, identity: Operating, now: NowDep
) -> WindowPublic:
    return WindowPublic.model_validate(await setup.resume_window(session, identity, window_code, now))


@router.post("/halls/{hall_id}/slots", response_model=SlotsCreated, dependencies=ADMIN)
async def create_slots(hall_id: HallIdPath, body: SlotsCreate, session: SessionDep) -> SlotsCreated:
    """Appointment slots on the days the hall opens, inside its hours; existing slots are kept."""
    async with unique_guard("slot_exists", "时段已存在 (slot exists)", "start_times", "unique"):
        return await slots.create_slots(session, hall_id, body)


@router.get("/halls/{hall_id}/slots", response_model=list[SlotPublic], dependencies=PUBLIC)
async def list_slots(
    hall_id: HallIdPath,
    session: SessionDep,
    now: NowDep,
    queue_code: Annotated[str | None, Query(pattern=QUEUE_CODE)] = None,
    date_from: FirstDay = None,
    days: Annotated[int, Query(ge=1, le=slots.MAX_DAYS)] = 7,
) -> list[SlotPublic]:
    return await slots.list_slots(session, hall_id, queue_code, date_from or local_date(now), days)


@router.post("/halls/{hall_id}/close-day", response_model=DayClosed, dependencies=ADMIN)
async def close_hall_day(hall_id: HallIdPath, body: CloseDay, session: SessionDep, now: NowDep) -> DayClosed:
    """闭厅: waiting tickets expire, missed appointments become no-shows; says the next opening day."""
    return await close_day(session, hall_id, body.day, now)


@router.get("/halls/{hall_id}/display", response_model=display.HallDisplay, dependencies=PUBLIC)
async def hall_display(hall_id: HallIdPath, session: SessionDep, now: NowDep) -> display.HallDisplay:
    """The hall screen: now calling (with the voice text), windows, and who is next per queue."""
    return await display.display(session, hall_id, now)


@router.get("/halls/{hall_id}/display/stream", include_in_schema=False, dependencies=PUBLIC)
async def hall_display_stream(
    request: Request,
    hall_id: HallIdPath,
    now: NowDep,
    seconds: Annotated[float, Query(ge=1, le=300)] = 8,
    last_event_id: Annotated[str | None, Header(max_length=64)] = None,
) -> StreamingResponse:
    """Server-sent events `display` and `announce`; ends after `seconds` (EventSource reconnects)."""
    sessions = request.app.state.sessions
    async with sessions() as session:
        await setup.get_hall(session, hall_id)  # 404 before the stream starts
    try:
        since = datetime.fromisoformat(last_event_id) if last_event_id else now
    except ValueError:
        since = now
    if since.tzinfo is None:
        since = now
    clock = request.app.dependency_overrides.get(hall_now, hall_now)
    events = display.stream(sessions, hall_id, clock, seconds, since, request.is_disconnected)
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/halls/{hall_id}/statistics", response_model=stats.HallStatistics)
async def hall_statistics(
    hall_id: HallIdPath,
    session: SessionDep,
    identity: Operating,
    now: NowDep,
    date_from: FirstDay = None,
    date_to: FirstDay = None,
) -> stats.HallStatistics:
    """Tickets per hour, wait and service p50/p90 per queue and window, no-shows, transfers."""
    last = date_to or local_date(now)
    first = date_from or last
    if not timedelta(0) <= last - first <= timedelta(days=STATS_DAYS - 1):
        raise invalid(
            "bad_period", f"统计期间须为1至{STATS_DAYS}天 (1 to {STATS_DAYS} days)", "date_to", "period"
        )
    return await stats.hall_statistics(session, hall_id, first, last)
