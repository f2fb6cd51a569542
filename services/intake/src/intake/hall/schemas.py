"""Hall API schemas: halls, queues, windows, tickets, slots and appointments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from govcodes.idnumber import validate_id_number
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

HALL_ID = r"^[a-z0-9-]{2,40}$"
QUEUE_CODE = r"^[A-Z]{1,2}$"
WINDOW_CODE = r"^[A-Z0-9-]{1,10}$"
HEX_ID = r"^[0-9a-f]{32}$"
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"

HallId = Annotated[str, StringConstraints(pattern=HALL_ID)]
QueueCode = Annotated[str, StringConstraints(pattern=QUEUE_CODE)]
WindowCode = Annotated[str, StringConstraints(pattern=WINDOW_CODE)]
HexId = Annotated[str, StringConstraints(pattern=HEX_ID)]
Hhmm = Annotated[str, StringConstraints(pattern=HHMM)]
ItemId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,40}$")]
DepartmentCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{2,40}$")]
# No control characters: PostgreSQL refuses NUL in text, and screens should not show the others.
Name = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[^\x00-\x1f\x7f]+$")]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")]
# Far enough either way for any real booking or report, near enough that date arithmetic never overflows.
Day = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HoursRule(Strict):
    kind: Literal["regular", "offpeak", "extended"] = Field(description="常规 / 错时 / 延时")
    weekday: int | None = Field(
        default=None, ge=0, le=6, description="None: every working day; 0-6: that weekday unless a holiday"
    )
    start: Hhmm
    end: Hhmm
    windows: list[WindowCode] = Field(default_factory=list, max_length=50, description="Empty: all windows")
    months: list[Annotated[int, Field(ge=1, le=12)]] = Field(
        default_factory=list, max_length=12, description="Empty: all year (e.g. summer hours 5-9)"
    )

    @model_validator(mode="after")
    def _ordered(self) -> HoursRule:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self


class HallCreate(Strict):
    id: HallId
    name: LongText
    address: LongText | None = None
    max_calls: int = Field(default=3, ge=1, le=10, description="Calls before a ticket becomes a no-show")
    hours: list[HoursRule] = Field(min_length=1, max_length=30)


class QueueCreate(Strict):
    code: QueueCode = Field(description="Also the ticket prefix: A → A001")
    name: Name
    category: Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=r"^[^\x00-\x1f\x7f]+$")]
    departments: list[DepartmentCode] = Field(default_factory=list, max_length=50)
    is_default: bool = Field(default=False, description="Takes the items no other queue claims (综合受理)")
    default_service_s: int = Field(default=300, ge=30, le=3600)


class QueuePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    hall_id: str
    code: str
    name: str
    category: str
    departments: list[str]
    is_default: bool
    default_service_s: int


class WindowCreate(Strict):
    code: WindowCode
    name: Name
    kind: Literal["comprehensive", "special", "output"] = Field(description="综合受理 / 专业 / 出件")
    department_code: DepartmentCode | None = None
    queues: list[QueueCode] = Field(min_length=1, max_length=10)


class WindowUpdate(Strict):
    name: Name | None = None
    queues: list[QueueCode] | None = Field(default=None, min_length=1, max_length=10)
    status: Literal["open", "closed"] | None = Field(default=None, description="closed: not staffed")


class PauseRequest(Strict):
    reason: LongText = Field(description="e.g. 系统故障, 临时离岗")


class WindowPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    hall_id: str
    name: str
    kind: str
    department_code: str | None
    queues: list[str]
    status: str
    pause_reason: str | None
    status_changed_at: datetime


class HallPublic(BaseModel):
    id: str
    name: str
    address: str | None
    max_calls: int
    hours: list[HoursRule]
    queues: list[QueuePublic]
    windows: list[WindowPublic]


class TicketCreate(Strict):
    hall_id: HallId
    item_id: ItemId | None = Field(default=None, description="By item: the queue is the item's")
    queue_code: QueueCode | None = Field(default=None, description="By category")
    id_number: str | None = Field(default=None, description="Resident ID number (GB 11643), optional")
    priority: Literal["normal", "disabled", "military"] = Field(
        default="normal", description="disabled / military are verified at the guide desk; elderly is derived"
    )
    channel: Literal["guide_desk", "kiosk", "app"]

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, value: str | None) -> str | None:
        return None if value is None else validate_id_number(value)

    @model_validator(mode="after")
    def _item_or_queue(self) -> TicketCreate:
        if (self.item_id is None) == (self.queue_code is None):
            raise ValueError("give exactly one of item_id and queue_code")
        return self


class TicketPublic(BaseModel):
    id: str
    hall_id: str
    queue_code: str
    number: str = Field(description="e.g. A001")
    status: Literal["waiting", "called", "serving", "done", "transferred", "no_show", "cancelled", "expired"]
    priority: str
    channel: str
    service_date: date
    issued_at: datetime
    item_id: str | None
    id_number_masked: str | None
    position: int | None = Field(description="1 = next to be called; only while waiting")
    estimated_wait_minutes: int | None
    window_code: str | None
    call_count: int
    called_at: datetime | None
    announcement: str | None = Field(description="What the voice reads, e.g. 请A001号到A03号窗口办理")
    serving_started_at: datetime | None
    finished_at: datetime | None
    ended_at: datetime | None
    served_item_id: str | None
    application_id: str | None
    transferred_from_id: str | None
    appointment_id: str | None


class CallTicket(Strict):
    ticket_id: HexId


class CallResult(BaseModel):
    ticket: TicketPublic | None = Field(description="None when nobody is waiting")
    waiting: int = Field(description="Tickets still waiting in the window's queues")


class FinishRequest(Strict):
    item_id: ItemId | None = Field(default=None, description="The item handled (事项)")
    application_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,40}$")] | None = None


class TransferRequest(Strict):
    queue_code: QueueCode
    reason: LongText | None = None


class SlotsCreate(Strict):
    queue_code: QueueCode
    date_from: Day
    date_to: Day
    start_times: list[Hhmm] = Field(min_length=1, max_length=48)
    duration_min: int = Field(default=30, ge=5, le=240)
    capacity: int = Field(ge=1, le=200)

    @model_validator(mode="after")
    def _span(self) -> SlotsCreate:
        if not 0 <= (self.date_to - self.date_from).days <= 31:
            raise ValueError("date_to must be on or after date_from, at most 31 days later")
        return self


class SlotPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    hall_id: str
    queue_code: str
    slot_date: date
    start_time: str
    duration_min: int
    capacity: int
    booked: int


class SlotsCreated(BaseModel):
    created: int
    closed_days: list[date] = Field(description="Days the hall does not open: no slots")
    outside_hours: list[str] = Field(description="date HH:MM outside the day's opening hours: no slot")


class AppointmentCreate(Strict):
    slot_id: HexId
    item_id: ItemId
    id_number: str = Field(description="Resident ID number (GB 11643)")

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, value: str) -> str:
        return validate_id_number(value)


class AppointmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    slot_id: str
    hall_id: str
    queue_code: str
    slot_date: date
    start_time: str
    item_id: str
    status: Literal["booked", "checked_in", "cancelled", "no_show"]
    booked_at: datetime
    ended_at: datetime | None
    ticket_id: str | None


class CloseDay(Strict):
    day: Day | None = Field(default=None, description="The hall day to close; default today")


class DayClosed(BaseModel):
    hall_id: str
    day: date
    expired_tickets: int
    missed_appointments: int
    next_opening_day: date | None
