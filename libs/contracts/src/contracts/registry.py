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
    EventSpec("intake.application.accepted", topics.INTAKE_APPLICATIONS, intake.ApplicationAccepted),
    EventSpec("backoffice.task.decided", topics.BACKOFFICE_TASKS, backoffice.TaskDecided),
    EventSpec(
        "datashare.certificate.registered",
        topics.DATASHARE_CERTIFICATES,
        datashare.CertificateRegistered,
    ),
    EventSpec("datashare.evidence.released", topics.DATASHARE_ACCESS, datashare.EvidenceReleased),
    EventSpec("notify.message.status_changed", topics.NOTIFY_MESSAGES, notify.MessageStatusChanged),
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
