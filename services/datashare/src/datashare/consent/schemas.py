"""API schemas of consents."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class ConsentCreate(BaseModel):
    """Consent to share one certificate type, optionally only with one consumer, item or case."""

    model_config = ConfigDict(extra="forbid")

    certificate_type: str = Field(min_length=1, max_length=40)
    consumer: str | None = Field(
        default=None, max_length=40, description="Only this member (omit: any entitled)"
    )
    item_id: str | None = Field(default=None, max_length=40, description="Only for this item")
    case_number: str | None = Field(default=None, max_length=64, description="Only for this case")
    expires_on: date | None = Field(default=None, description="Last day the consent holds")
    subject_id: str | None = Field(
        default=None,
        max_length=40,
        description="Operators only (consent given on paper); citizens consent for themselves",
    )


class ConsentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    subject_mask: str
    certificate_type: str
    consumer_code: str | None
    item_id: str | None
    case_number: str | None
    given_by: str
    given_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
