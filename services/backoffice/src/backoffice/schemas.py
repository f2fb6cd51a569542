"""Back-office API schemas."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict


class TaskPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    application_id: str
    case_number: str
    item_id: str
    item_version: int
    department_code: str
    status: str
    received_at: datetime
    deadline_date: date | None


class TaskPage(BaseModel):
    tasks: list[TaskPublic]
    total: int
