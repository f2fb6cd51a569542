"""Which event type travels on which topic with which payload model: the one place to add an event."""

from __future__ import annotations

from dataclasses import dataclass

from contracts import backoffice, catalog, datashare, intake, notify, topics
from contracts.envelope import EventData
from contracts.topics import Topic


@dataclass(frozen=True)
class EventSpec:
    type_name: str
    topic: Topic
    model: type[EventData]

    @property
    def type(self) -> str:
        return self.type_name


_SPECS = (
    EventSpec("catalog.item.published", topics.CATALOG_ITEMS, catalog.ItemPublished),
    EventSpec("catalog.item.retired", topics.CATALOG_ITEMS, catalog.ItemRetired),
    EventSpec("intake.ticket.issued", topics.INTAKE_TICKETS, intake.TicketIssued),
    EventSpec("intake.ticket.called", topics.INTAKE_TICKETS, intake.TicketCalled),
    EventSpec("intake.ticket.service_started", topics.INTAKE_TICKETS, intake.TicketServiceStarted),
    EventSpec("intake.ticket.finished", topics.INTAKE_TICKETS, intake.TicketFinished),
    EventSpec("intake.ticket.transferred", topics.INTAKE_TICKETS, intake.TicketTransferred),
    EventSpec("intake.ticket.missed", topics.INTAKE_TICKETS, intake.TicketMissed),
    EventSpec("intake.ticket.cancelled", topics.INTAKE_TICKETS, intake.TicketCancelled),
    EventSpec("intake.ticket.expired", topics.INTAKE_TICKETS, intake.TicketExpired),
    EventSpec("intake.appointment.booked", topics.INTAKE_TICKETS, intake.AppointmentBooked),
    EventSpec("intake.appointment.cancelled", topics.INTAKE_TICKETS, intake.AppointmentCancelled),
    EventSpec("intake.appointment.checked_in", topics.INTAKE_TICKETS, intake.AppointmentCheckedIn),
    EventSpec("intake.appointment.missed", topics.INTAKE_TICKETS, intake.AppointmentMissed),
    EventSpec("intake.application.accepted", topics.INTAKE_APPLICATIONS, intake.ApplicationAccepted),
    EventSpec("intake.application.returned", topics.INTAKE_APPLICATIONS, intake.ApplicationReturned),
    EventSpec("intake.application.refused", topics.INTAKE_APPLICATIONS, intake.ApplicationRefused),
    EventSpec("intake.application.completed", topics.INTAKE_APPLICATIONS, intake.ApplicationCompleted),
    EventSpec("intake.application.terminated", topics.INTAKE_APPLICATIONS, intake.ApplicationTerminated),
    EventSpec("intake.rongque.deadline_warned", topics.INTAKE_APPLICATIONS, intake.RongqueDeadlineWarned),
    EventSpec("intake.rongque.fulfilled", topics.INTAKE_APPLICATIONS, intake.RongqueFulfilled),
    EventSpec("intake.output.ready", topics.INTAKE_APPLICATIONS, intake.OutputReady),
    EventSpec("intake.output.dispatched", topics.INTAKE_APPLICATIONS, intake.OutputDispatched),
    EventSpec("intake.output.delivered", topics.INTAKE_APPLICATIONS, intake.OutputDelivered),
    EventSpec("backoffice.task.received", topics.BACKOFFICE_TASKS, backoffice.TaskReceived),
    EventSpec("backoffice.task.transferred", topics.BACKOFFICE_TASKS, backoffice.TaskTransferred),
    EventSpec("backoffice.task.suspended", topics.BACKOFFICE_TASKS, backoffice.TaskSuspended),
    EventSpec("backoffice.task.resumed", topics.BACKOFFICE_TASKS, backoffice.TaskResumed),
    EventSpec("backoffice.task.extended", topics.BACKOFFICE_TASKS, backoffice.TaskExtended),
    EventSpec("backoffice.task.decided", topics.BACKOFFICE_TASKS, backoffice.TaskDecided),
    EventSpec("backoffice.task.deadline_warned", topics.BACKOFFICE_TASKS, backoffice.DeadlineWarned),
    EventSpec("backoffice.task.escalated", topics.BACKOFFICE_TASKS, backoffice.TaskEscalated),
    EventSpec("backoffice.subtask.completed", topics.BACKOFFICE_TASKS, backoffice.SubtaskCompleted),
    EventSpec("backoffice.rating.submitted", topics.BACKOFFICE_TASKS, backoffice.RatingSubmitted),
    EventSpec("backoffice.followup.opened", topics.BACKOFFICE_TASKS, backoffice.FollowUpOpened),
    EventSpec("backoffice.followup.rectified", topics.BACKOFFICE_TASKS, backoffice.FollowUpRectified),
    EventSpec("backoffice.followup.escalated", topics.BACKOFFICE_TASKS, backoffice.FollowUpEscalated),
    EventSpec("backoffice.complaint.filed", topics.BACKOFFICE_TASKS, backoffice.ComplaintFiled),
    EventSpec("backoffice.complaint.answered", topics.BACKOFFICE_TASKS, backoffice.ComplaintAnswered),
    EventSpec("backoffice.complaint.escalated", topics.BACKOFFICE_TASKS, backoffice.ComplaintEscalated),
    EventSpec(
        "datashare.certificate.registered",
        topics.DATASHARE_CERTIFICATES,
        datashare.CertificateRegistered,
    ),
    EventSpec("datashare.certificate.revoked", topics.DATASHARE_CERTIFICATES, datashare.CertificateRevoked),
    EventSpec("datashare.certificate.expired", topics.DATASHARE_CERTIFICATES, datashare.CertificateExpired),
    EventSpec("datashare.evidence.released", topics.DATASHARE_ACCESS, datashare.EvidenceReleased),
    EventSpec("notify.message.status_changed", topics.NOTIFY_MESSAGES, notify.MessageStatusChanged),
    EventSpec("notify.message.dead_lettered", topics.NOTIFY_MESSAGES, notify.MessageDeadLettered),
    EventSpec("notify.alert.raised", topics.NOTIFY_MESSAGES, notify.AlertRaised),
)

REGISTRY: dict[str, EventSpec] = {spec.type: spec for spec in _SPECS}


def spec_for(event_type: str) -> EventSpec:
    """The spec of a registered type; KeyError names the unknown type."""
    try:
        return REGISTRY[event_type]
    except KeyError:
        raise KeyError(f"unregistered event type {event_type!r}") from None


def topic_for(event_type: str) -> str:
    return spec_for(event_type).topic.name
