"""API schemas of held certificates."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator


class CertificatePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    certificate_type: str
    number: str
    issuer_code: str
    issued_on: date
    valid_until: date | None
    status: str = Field(description="valid / revoked / expired")
    holder_name: str | None = None
    status_changed_at: datetime | None = None
    status_reason: str | None = None


class CertificateCreate(BaseModel):
    """A provider registers a certificate it issued, so that it can be shared (held copy)."""

    model_config = ConfigDict(extra="forbid")

    certificate_type: str = Field(min_length=1, max_length=40)
    number: str = Field(min_length=1, max_length=60)
    subject_id: str = Field(min_length=1, max_length=40, description="居民身份证号码或统一社会信用代码")
    holder_name: str | None = Field(default=None, max_length=100)
    issued_on: date
    valid_until: date | None = None
    fields: dict[str, str] = Field(default_factory=dict, max_length=30)
    issuer: str | None = Field(default=None, max_length=40, description="Operators only: the issuing member")

    @model_validator(mode="after")
    def _dates(self) -> CertificateCreate:
        if self.valid_until is not None and self.valid_until < self.issued_on:
            raise ValueError("valid_until must not be before issued_on")
        if any(len(k) > 40 or len(v) > 200 for k, v in self.fields.items()):
            raise ValueError("field names at most 40 characters, values at most 200")
        return self


class CertificateRevoke(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=200, description="吊销/注销原因")


class CertificateSearch(BaseModel):
    """Certificates about a subject: a citizen leaves the subject out (their own)."""

    model_config = ConfigDict(extra="forbid")

    subject_id: str | None = Field(default=None, max_length=40)
