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
