"""Events written by the back-office service on `backoffice.tasks`."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from contracts.envelope import EventData


class TaskDecided(EventData):
    """backoffice.task.decided: a department approved or rejected an application (办结)."""

    application_id: str
    case_number: str
    department_code: str
    decision: str = Field(description="approved or rejected")
    reason: str | None = None
    certificate_type: str | None = None
    certificate_number: str | None = None
    subject_id: str | None = Field(default=None, description="Holder of the certificate issued")
    valid_until: date | None = None
    decided_at: datetime
