"""Datashare API schemas."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict


class CertificatePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    certificate_type: str
    number: str
    issuer_code: str
    issued_on: date
    valid_until: date | None
    status: str
