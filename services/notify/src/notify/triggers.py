"""Which event makes which message: the trigger table. Adding a trigger is one line here.

`to` says who receives it: "case" (the applicant of `case_number`, from intake's 受理 events),
a data field holding a resident ID number (e.g. "applicant_id"), "subject" (datashare's hashed
data subject) or "department" (the duty contact of `department_code`). A trigger is live when
its event type is registered in contracts (a trigger may name an event before its producer
publishes it; it stays idle until then).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from contracts.certificates import CERTIFICATE_TYPES
from contracts.registry import REGISTRY
from notify.clock import LOCAL_TZ

Data = Mapping[str, Any]


def _always(_data: Data) -> bool:
    return True


def _nothing(_data: Data) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Trigger:
    event_type: str
    template: str
    to: str
    when: Callable[[Data], bool] = _always
    derive: Callable[[Data], dict[str, str]] = _nothing
    # Urgent messages ignore quiet hours (e.g. the hall is about to call the ticket).
    urgent: bool = False
    # When to send instead of at once (reminders).
    send_at: Callable[[Data], datetime] | None = None
    # A data field holding a list: one message per entry, whose fields override the event's.
    each: str | None = None
    # The field naming what the message is about (default: the event's subject).
    about: str | None = None
    # At most one message per recipient about the same thing, whatever events follow.
    once: bool = False
    # This event withdraws the template's unsent messages about the same thing (a cancelled booking).
    cancels: bool = False
    channels: tuple[str, ...] = field(default=("sms", "email", "push", "inbox"))

    @property
    def live(self) -> bool:
        return self.event_type in REGISTRY


def _promised(data: Data) -> dict[str, str]:
    date = data.get("promised_date")
    return {"promised": f"承诺于{date:%Y年%-m月%-d日}前办结" if date else "办理进度将及时告知您"}


def _outcome(data: Data) -> dict[str, str]:
    if data.get("decision") == "approved":
        result = data.get("result_name")
        return {"outcome": f"准予办理{f'，办理结果为{result}' if result else ''}。"}
    reason = data.get("reason") or "详见不予许可决定书"
    return {"outcome": f"不予办理，理由：{reason}。{data.get('appeal_rights') or ''}"}


def _slot(data: Data) -> dict[str, str]:
    return {"slot": f"{data['slot_date']:%-m月%-d日} {data['start_time']}"}


def _eve(data: Data) -> datetime:
    start = datetime.combine(data["slot_date"], time.fromisoformat(data["start_time"]), LOCAL_TZ)
    return start - timedelta(hours=24)


def _certificate(data: Data) -> dict[str, str]:
    kind = str(data.get("certificate_type", ""))
    return {"certificate": CERTIFICATE_TYPES.get(kind, kind)}


_ESCALATED_TO = {"department_head": "部门负责人", "supervision_office": "督查室"}


def _escalated(data: Data) -> dict[str, str]:
    return {"escalated_to": "、".join(_ESCALATED_TO.get(x, x) for x in data.get("escalated_to", []))}


def _buzheng(data: Data) -> bool:
    return bool(data["kind"] == "buzheng")


def _buzheng_remindable(data: Data) -> bool:
    """A 补正 due later than tomorrow gets a reminder (the notice itself went out today)."""
    due: date | None = data.get("due_date")
    return _buzheng(data) and due is not None and due - timedelta(days=1) > data["suspended_on"]


def _eve_of_due(data: Data) -> datetime:
    return datetime.combine(data["due_date"] - timedelta(days=1), time(9), LOCAL_TZ)


def _terminated(data: Data) -> bool:
    return bool(data["decision"] == "terminated")


def _decided(data: Data) -> bool:
    return not _terminated(data)


def _turn_near(data: Data) -> bool:
    return int(data["position"]) <= 3


STAFF = ("sms", "email")
HALL = ("sms", "push", "inbox")


def turn_near_on(event_type: str) -> Trigger:
    """Waiting tickets that moved up to position 3 or better are told once, whatever moved the queue."""
    return Trigger(
        event_type, "turn_near", "citizen_id", each="upcoming", about="ticket_id", once=True,
        when=_turn_near, urgent=True, channels=HALL,
    )  # fmt: skip


APPT = "appointment_id"

TRIGGERS: tuple[Trigger, ...] = (
    turn_near_on("intake.ticket.called"),
    turn_near_on("intake.ticket.missed"),
    turn_near_on("intake.ticket.cancelled"),
    Trigger("intake.appointment.booked", "appointment_reminder", "citizen_id", about=APPT, derive=_slot, send_at=_eve),
    Trigger("intake.appointment.cancelled", "appointment_reminder", "citizen_id", about=APPT, cancels=True),
    Trigger("intake.application.accepted", "application_accepted", "applicant_id", derive=_promised),
    Trigger("backoffice.task.suspended", "buzheng_requested", "applicant_id", when=_buzheng),
    Trigger("backoffice.task.suspended", "buzheng_reminder", "applicant_id", when=_buzheng_remindable, send_at=_eve_of_due),
    Trigger("backoffice.task.resumed", "buzheng_reminder", "applicant_id", cancels=True),
    Trigger("backoffice.task.decided", "buzheng_reminder", "case", cancels=True),
    Trigger("backoffice.task.decided", "decision", "case", when=_decided, derive=_outcome),
    Trigger("backoffice.task.decided", "case_terminated", "case", when=_terminated),
    Trigger("datashare.evidence.released", "data_accessed", "subject", derive=_certificate),
    Trigger("backoffice.followup.opened", "followup_required", "department", channels=STAFF),
    Trigger("backoffice.task.deadline_warned", "deadline_warning", "department", channels=STAFF),
    Trigger("backoffice.task.escalated", "overdue_escalation", "department", derive=_escalated, channels=STAFF),
    Trigger("intake.application.returned", "one_time_notice", "applicant_id"),
    Trigger("intake.application.refused", "application_refused", "applicant_id"),
    Trigger("intake.application.terminated", "rongque_terminated", "applicant_id"),
    Trigger("intake.rongque.deadline_warned", "rongque_deadline", "applicant_id"),
    Trigger("intake.output.ready", "result_ready", "case"),
    Trigger("intake.output.dispatched", "courier_dispatched", "case"),
    Trigger("intake.output.delivered", "rating_invitation", "case"),
)  # fmt: skip


def triggers_for(event_type: str) -> list[Trigger]:
    return [t for t in TRIGGERS if t.event_type == event_type]


def live_event_types() -> list[str]:
    return sorted({t.event_type for t in TRIGGERS if t.live})
