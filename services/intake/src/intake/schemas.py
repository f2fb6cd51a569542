"""Intake API schemas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from govcodes.idnumber import validate_id_number
from pydantic import BaseModel, ConfigDict, Field, field_validator


class ApplicationCreate(BaseModel):
    item_id: str = Field(min_length=1, max_length=40)
    applicant_id: str = Field(description="Resident ID number (GB 11643)")
    applicant_name: str = Field(min_length=2, max_length=100)
    channel: Literal["window", "online"] = "online"

    @field_validator("applicant_id")
    @classmethod
    def _id_number(cls, value: str) -> str:
        return validate_id_number(value)


class ApplicationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    case_number: str
    item_id: str
    item_version: int
    department_code: str
    channel: str
    status: str
    created_at: datetime
    accepted_at: datetime | None


class ItemView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    item_id: str
    version: int
    name: str
    department_code: str
    handling_type: str
    effective_from: date
    effective_to: date | None
