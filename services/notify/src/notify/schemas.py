"""Notify API schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class MessagePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    template: str
    template_version: int
    channel: str
    case_number: str | None
    body: str
    status: str
    created_at: datetime
