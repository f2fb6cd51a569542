"""Events written by the intake service on `intake.tickets` and `intake.applications`."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from contracts.envelope import EventData


class TicketIssued(EventData):
    """intake.ticket.issued: a hall ticket was taken (导办一键取号)."""

    ticket_id: str
    queue_code: str
    number: str = Field(description="Number shown to the citizen, e.g. A001")
    priority: str
    issued_at: datetime
    hall_id: str | None = None
    service_date: date | None = None
    channel: str | None = Field(default=None, description="guide_desk, kiosk, app, appointment, transfer")
    citizen_id: str | None = Field(default=None, description="ID number when the ticket names one")
    item_id: str | None = None
    position: int | None = Field(default=None, description="Place in the queue at issue, 1 = next")
    estimated_wait_minutes: int | None = None
    transferred_from_ticket_id: str | None = None
    appointment_id: str | None = None


class MaterialRef(EventData):
    """One material of an accepted application and where the deciding department finds it."""

    name: str
    status: str = Field(
        description="identity (ID card verified), file (uploaded), datashare (一证通办: fetch it with the "
        "case number as purpose), deferred (容缺: promised later), supplied (容缺, supplied since), optional"
    )
    required: bool = True
    certificate_type: str | None = Field(default=None, description="Certificate type in datashare")
    evidence_ref: str | None = Field(
        default=None, description="Datashare resolution (预审) or evidence request id that vouched for it"
    )
    file_id: str | None = Field(
        default=None, description="GET /applications/{application_id}/files/{file_id}"
    )
    sha256: str | None = None
    size: int | None = None
    content_type: str | None = None


class AgentRef(EventData):
    """代办: the person acting for the applicant."""

    id_number: str
    name: str


class ApplicationAccepted(EventData):
    """intake.application.accepted: an application was accepted (受理 or 容缺受理) and is routed."""

    application_id: str
    case_number: str
    item_id: str
    item_version: int = Field(ge=1)
    department_code: str = Field(description="Deciding department or municipal body")
    applicant_kind: str = Field(description="person or enterprise")
    applicant_id: str = Field(description="ID number or unified social credit code")
    applicant_name: str
    rongque: bool = False
    accepted_at: datetime
    promised_date: date | None = None
    item_name: str | None = None
    handling_type: str | None = Field(default=None, description="即办件 / 承诺件 / 联办件 / 上报件")
    deciding_level: str | None = Field(default=None, description="district / city / province")
    deciding_department: str | None = Field(
        default=None, description="The body that decides a 上报件 (e.g. a municipal bureau), from the item"
    )
    situation_code: str | None = Field(default=None, description="情形 chosen")
    channel: str | None = Field(default=None, description="window or online")
    bundle_id: str | None = Field(default=None, description="一件事: applications submitted together")
    one_certificate: bool | None = Field(default=None, description="一证通办: only the ID card was needed")
    legal_representative: str | None = None
    agent: AgentRef | None = None
    materials: list[MaterialRef] = Field(default_factory=list)
    rongque_materials: list[str] = Field(default_factory=list, description="容缺: still to be supplied")
    rongque_due_date: date | None = None


class ApplicationClosedAtIntake(EventData):
    """Base of the intake outcomes that end an application before any department works on it."""

    application_id: str
    case_number: str
    item_id: str
    item_version: int = Field(ge=1)
    department_code: str
    applicant_kind: str
    applicant_id: str = Field(description="ID number or unified social credit code")
    applicant_name: str
    at: datetime


class ApplicationReturned(ApplicationClosedAtIntake):
    """intake.application.returned: 一次性告知, everything missing told in one go."""

    materials: list[str] = Field(description="Every material still to be brought")
    reason: str | None = None


class ApplicationRefused(ApplicationClosedAtIntake):
    """intake.application.refused: 不予受理, with the reason and the appeal rights."""

    reason: str
    appeal_rights: str


class ApplicationCompleted(ApplicationClosedAtIntake):
    """intake.application.completed: a 即办件 accepted and completed at the window (no back-office task)."""

    channel: str = "window"
    bundle_id: str | None = None
    one_certificate: bool | None = None


class ApplicationTerminated(EventData):
    """intake.application.terminated: 容缺 materials not supplied by the deadline; the case ends."""

    application_id: str
    case_number: str
    department_code: str
    applicant_id: str
    materials: list[str]
    due_date: date
    terminated_at: datetime


class RongqueDeadlineWarned(EventData):
    """intake.rongque.deadline_warned: the 容缺 materials are due within a working day."""

    application_id: str
    case_number: str
    item_id: str
    department_code: str
    applicant_id: str
    materials: list[str]
    due_date: date
    warned_on: date


class RongqueFulfilled(EventData):
    """intake.rongque.fulfilled: every 容缺 material was supplied in time."""

    application_id: str
    case_number: str
    department_code: str
    materials: list[MaterialRef]
    fulfilled_at: datetime


class OutputReady(EventData):
    """intake.output.ready: the result waits at the output window (出件) for the pickup code."""

    application_id: str
    case_number: str
    department_code: str
    pickup_code: str = Field(description="Sent to the applicant only; intake keeps a hash")
    pickup_place: str
    ready_at: datetime


class OutputDispatched(EventData):
    """intake.output.dispatched: the result was handed to the courier (证照快递送达)."""

    application_id: str
    case_number: str
    department_code: str
    courier: str
    tracking_number: str
    dispatched_at: datetime


class OutputDelivered(EventData):
    """intake.output.delivered: the result was picked up or delivered; the applicant may rate."""

    application_id: str
    case_number: str
    department_code: str
    item_id: str
    method: str = Field(description="pickup (at the output window) or courier")
    delivered_at: datetime


class WaitingPosition(EventData):
    """A ticket still waiting and its place in the queue (1 = next)."""

    ticket_id: str
    number: str
    position: int = Field(ge=1)
    citizen_id: str | None = Field(default=None, description="ID number when the ticket names one")


class TicketCalled(EventData):
    """intake.ticket.called: a ticket was called (叫号) or recalled to a window.

    `upcoming` lists the next waiting tickets of the same queue with their positions after this
    call: notify tells a citizen their turn is near when their position is 3 or less.
    """

    ticket_id: str
    hall_id: str
    queue_code: str
    number: str
    window_code: str
    call_count: int = Field(ge=1, description="1 on the first call, then each recall")
    announcement: str = Field(description="The voice announcement, e.g. 请A001号到A03号窗口办理")
    citizen_id: str | None = None
    called_at: datetime
    upcoming: list[WaitingPosition] = Field(default_factory=list)


class TicketServiceStarted(EventData):
    """intake.ticket.service_started: the citizen came to the window and service began."""

    ticket_id: str
    hall_id: str
    window_code: str
    started_at: datetime


class TicketFinished(EventData):
    """intake.ticket.finished: service at the window ended, with the item and any application it produced."""

    ticket_id: str
    hall_id: str
    queue_code: str
    window_code: str
    item_id: str | None = None
    application_id: str | None = None
    wait_s: int | None = Field(default=None, description="Issue to first call")
    service_s: int | None = Field(default=None, description="Start to finish of service")
    finished_at: datetime


class TicketTransferred(EventData):
    """intake.ticket.transferred: the ticket moved to another queue as a new ticket linked to it."""

    ticket_id: str
    hall_id: str
    from_queue_code: str
    window_code: str
    new_ticket_id: str
    new_queue_code: str
    new_number: str
    reason: str | None = None
    transferred_at: datetime


class TicketLeft(EventData):
    """Base of the events of a ticket that left the hall without being served."""

    ticket_id: str
    hall_id: str
    queue_code: str
    number: str
    citizen_id: str | None = None
    call_count: int = 0
    ended_at: datetime
    upcoming: list[WaitingPosition] = Field(
        default_factory=list, description="Positions that moved up because this ticket left the queue"
    )


class TicketMissed(TicketLeft):
    """intake.ticket.missed: no-show (过号) after the hall's number of calls."""


class TicketCancelled(TicketLeft):
    """intake.ticket.cancelled: the citizen or the guide desk gave the ticket up."""


class TicketExpired(TicketLeft):
    """intake.ticket.expired: still waiting (or called) when the hall closed for the day."""


class AppointmentChanged(EventData):
    """Base of the appointment (预约) events."""

    appointment_id: str
    hall_id: str
    queue_code: str
    item_id: str
    citizen_id: str = Field(description="ID number of the person who booked")
    slot_date: date
    start_time: str = Field(description="HH:MM hall time (Asia/Shanghai)")
    at: datetime


class AppointmentBooked(AppointmentChanged):
    """intake.appointment.booked: a slot was booked."""


class AppointmentCancelled(AppointmentChanged):
    """intake.appointment.cancelled: the booking was cancelled before its slot; the place is free again."""


class AppointmentCheckedIn(AppointmentChanged):
    """intake.appointment.checked_in: the citizen arrived; the booking became a priority ticket."""

    ticket_id: str | None = None
    number: str | None = None


class AppointmentMissed(AppointmentChanged):
    """intake.appointment.missed: no-show, the slot passed without a check-in."""
