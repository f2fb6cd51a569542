"""Hall routes for tickets, calling and appointments; `router` is the hall's one APIRouter."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, status

from intake.hall import api_hall, appointments, calling, serving, tickets
from intake.hall.clock import NowDep
from intake.hall.rules import unique_guard
from intake.hall.schemas import (
    HALL_ID,
    HEX_ID,
    WINDOW_CODE,
    AppointmentCreate,
    AppointmentPublic,
    CallResult,
    CallTicket,
    FinishRequest,
    TicketCreate,
    TicketPublic,
    TransferRequest,
)
from servicekit.auth import requires
from servicekit.deps import SessionDep
from servicekit.identity import Identity

router = APIRouter(tags=["hall"])
Applying = Annotated[Identity, Depends(requires("intake:apply"))]
Reading = Annotated[Identity, Depends(requires("intake:read"))]
Operating = Annotated[Identity, Depends(requires("hall:operate"))]
TicketPath = Annotated[str, Path(pattern=HEX_ID)]
AppointmentPath = Annotated[str, Path(pattern=HEX_ID)]
WindowPath = Annotated[str, Path(pattern=WINDOW_CODE)]
TicketStatus = Literal[
    "waiting", "called", "serving", "done", "transferred", "no_show", "cancelled", "expired"
]
LIVE = ("live_ticket_exists", "同一人在同一队列只能持有一个有效号 (one live ticket per person and queue)")


@router.post("/tickets", status_code=status.HTTP_201_CREATED, response_model=TicketPublic)
async def issue_ticket(
    body: TicketCreate, session: SessionDep, identity: Applying, now: NowDep
) -> TicketPublic:
    """一键取号 at the guide desk, a kiosk or in the app: by item or by category; position and wait."""
    async with unique_guard(*LIVE, "id_number", "one_live_ticket_per_queue"):
        return await tickets.issue_ticket(session, identity, body, now)


@router.get("/tickets", response_model=list[TicketPublic])
async def list_tickets(
    session: SessionDep,
    identity: Reading,
    now: NowDep,
    hall_id: Annotated[str | None, Query(pattern=HALL_ID)] = None,
    service_date: Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(2100, 12, 31))] = None,
    ticket_status: Annotated[TicketStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> list[TicketPublic]:
    """A citizen's own tickets, newest first; hall staff see every ticket (filters narrow it)."""
    return await tickets.list_tickets(session, identity, now, (hall_id, service_date, ticket_status), limit)


@router.get("/tickets/{ticket_id}", response_model=TicketPublic)
async def get_ticket(
    ticket_id: TicketPath, session: SessionDep, identity: Reading, now: NowDep
) -> TicketPublic:
    """The ticket with its live position and estimated wait."""
    return await tickets.get_ticket(session, identity, ticket_id, now)


@router.post("/tickets/{ticket_id}/cancel", response_model=TicketPublic)
async def cancel_ticket(
    ticket_id: TicketPath, session: SessionDep, identity: Applying, now: NowDep
) -> TicketPublic:
    return await tickets.cancel_ticket(session, identity, ticket_id, now)


@router.post("/windows/{window_code}/call-next", response_model=CallResult)
async def call_next_ticket(
    window_code: WindowPath, session: SessionDep, identity: Operating, now: NowDep
) -> CallResult:
    """呼叫下一位: priority classes first, then queue order; `ticket` is null when nobody waits."""
    return await calling.call_next(session, identity, window_code, now)


@router.post("/windows/{window_code}/call", response_model=CallResult)
async def call_given_ticket(
    window_code: WindowPath, body: CallTicket, session: SessionDep, identity: Operating, now: NowDep
) -> CallResult:
    """Call one waiting ticket of the window's queues out of turn."""
    return await calling.call_ticket(session, identity, window_code, body.ticket_id, now)


@router.post("/tickets/{ticket_id}/recall", response_model=CallResult)
async def recall_ticket(
    ticket_id: TicketPath, session: SessionDep, identity: Operating, now: NowDep
) -> CallResult:
    """重呼, up to the hall's number of calls."""
    return await calling.recall(session, identity, ticket_id, now)


@router.post("/tickets/{ticket_id}/start", response_model=TicketPublic)
async def start_serving(
    ticket_id: TicketPath, session: SessionDep, identity: Operating, now: NowDep
) -> TicketPublic:
    return await serving.start(session, identity, ticket_id, now)


@router.post("/tickets/{ticket_id}/finish", response_model=TicketPublic)
async def finish_serving(
    ticket_id: TicketPath, body: FinishRequest, session: SessionDep, identity: Operating, now: NowDep
) -> TicketPublic:
    """办结 at the window, recording the item handled and the application it produced, if any."""
    return await serving.finish(session, identity, ticket_id, body, now)


@router.post("/tickets/{ticket_id}/no-show", response_model=TicketPublic)
async def mark_ticket_no_show(
    ticket_id: TicketPath, session: SessionDep, identity: Operating, now: NowDep
) -> TicketPublic:
    """过号, once the ticket was called the hall's number of times."""
    return await serving.no_show(session, identity, ticket_id, now)


@router.post(
    "/tickets/{ticket_id}/transfer", status_code=status.HTTP_201_CREATED, response_model=TicketPublic
)
async def transfer_ticket(
    ticket_id: TicketPath, body: TransferRequest, session: SessionDep, identity: Operating, now: NowDep
) -> TicketPublic:
    """To another queue: answers the new ticket, linked to this one and placed by its original time."""
    async with unique_guard(*LIVE, "id_number", "one_live_ticket_per_queue"):
        return await serving.transfer(session, identity, ticket_id, body, now)


@router.post("/appointments", status_code=status.HTTP_201_CREATED, response_model=AppointmentPublic)
async def book_appointment(
    body: AppointmentCreate, session: SessionDep, identity: Applying, now: NowDep
) -> AppointmentPublic:
    """预约 a slot for an item: one live booking per person, item and day."""
    detail = "同一事项同一天只能有一个有效预约 (one live booking per item and day)"
    async with unique_guard("booking_exists", detail, "item_id", "one_booking_per_item_per_day"):
        return AppointmentPublic.model_validate(await appointments.book(session, identity, body, now))


@router.get("/appointments", response_model=list[AppointmentPublic])
async def list_appointments(
    session: SessionDep,
    identity: Reading,
    hall_id: Annotated[str | None, Query(pattern=HALL_ID)] = None,
    slot_date: Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(2100, 12, 31))] = None,
) -> list[AppointmentPublic]:
    """A citizen's own appointments; hall staff see every one (filters narrow it)."""
    found = await appointments.mine(session, identity, hall_id, slot_date)
    return [AppointmentPublic.model_validate(a) for a in found]


@router.get("/appointments/{appointment_id}", response_model=AppointmentPublic)
async def get_appointment(
    appointment_id: AppointmentPath, session: SessionDep, identity: Reading
) -> AppointmentPublic:
    return AppointmentPublic.model_validate(await appointments.get(session, identity, appointment_id))


@router.post("/appointments/{appointment_id}/cancel", response_model=AppointmentPublic)
async def cancel_appointment(
    appointment_id: AppointmentPath, session: SessionDep, identity: Applying, now: NowDep
) -> AppointmentPublic:
    return AppointmentPublic.model_validate(await appointments.cancel(session, identity, appointment_id, now))


@router.post(
    "/appointments/{appointment_id}/check-in",
    status_code=status.HTTP_201_CREATED,
    response_model=TicketPublic,
)
async def check_in_appointment(
    appointment_id: AppointmentPath, session: SessionDep, identity: Applying, now: NowDep
) -> TicketPublic:
    """签到 on the day, from an hour before the slot to its end: answers a priority ticket."""
    async with unique_guard(*LIVE, "id_number", "one_live_ticket_per_queue"):
        return await appointments.check_in(session, identity, appointment_id, now)


@router.post("/appointments/{appointment_id}/no-show", response_model=AppointmentPublic)
async def mark_appointment_no_show(
    appointment_id: AppointmentPath, session: SessionDep, identity: Operating, now: NowDep
) -> AppointmentPublic:
    """爽约 once the slot is over (closing the day does it for all)."""
    return AppointmentPublic.model_validate(
        await appointments.mark_missed(session, identity, appointment_id, now)
    )


router.include_router(api_hall.router)
