"""Intake API schemas of the item read model (applications have theirs in intake.applications)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict


class ItemView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    item_id: str
    version: int
    name: str
    department_code: str
    handling_type: str
    deciding_level: str
    deciding_department: str | None
    promised_limit_days: int
    promised_limit_unit: str
    effective_from: date
    effective_to: date | None
