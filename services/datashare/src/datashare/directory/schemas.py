"""API schemas of members, subsystems, evidence catalogue entries and access rules."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from govcodes.creditcode import InvalidCreditCode, validate_credit_code
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

CODE = r"^[a-z0-9][a-z0-9-]{0,39}$"


class SubsystemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=CODE, max_length=40, examples=["approval"])
    name: str = Field(min_length=1, max_length=100)
    client_id: str | None = Field(
        default=None, min_length=1, max_length=100, description="The gateway client acting as this subsystem"
    )


class SubsystemPublic(SubsystemCreate):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class MemberCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=CODE, max_length=40, examples=["wc-mzj"])
    name: str = Field(min_length=1, max_length=100)
    credit_code: str = Field(min_length=18, max_length=18, description="统一社会信用代码 (GB 32100)")
    level: Literal["district", "city", "province", "platform"]
    subsystems: list[SubsystemCreate] = Field(default_factory=list, max_length=20)

    @field_validator("credit_code")
    @classmethod
    def _credit_code(cls, value: str) -> str:
        try:
            return validate_credit_code(value)
        except InvalidCreditCode as exc:
            raise ValueError(str(exc)) from None


class MemberPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    credit_code: str
    level: str
    registered_at: datetime
    subsystems: list[SubsystemPublic]


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str = Field(min_length=1, max_length=40)


class CertificateTypeSpec(BaseModel):
    """An evidence catalogue entry; with `endpoint_url` the provider answers live (federated)."""

    model_config = ConfigDict(extra="forbid")

    provider: str = Field(max_length=40, description="Member code of the issuing body")
    subject_kind: Literal["person", "enterprise"]
    fields: list[FieldSpec] = Field(default_factory=list, max_length=30)
    validity: Literal["long_term", "fixed_term"] = Field(description="长期有效, or valid until a date")
    max_age_days: int | None = Field(
        default=None, ge=1, le=36500, description="Usable only this many days after issue (e.g. 社保参保证明)"
    )
    trust_level: Literal["A", "B", "C", "D"] = Field(description="材料可信等级")
    consent_required: bool = Field(description="Shared only with the subject's consent (sensitive data)")
    endpoint_url: HttpUrl | None = Field(default=None, description="Federated provider endpoint (see README)")
    timeout_ms: int = Field(default=2000, ge=50, le=30000)

    @field_validator("endpoint_url")
    @classmethod
    def _short_url(cls, value: HttpUrl | None) -> HttpUrl | None:
        if value is not None and len(str(value)) > 300:
            raise ValueError("at most 300 characters")
        return value


class CertificateTypePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    provider_code: str
    subject_kind: str
    fields: list[FieldSpec]
    validity: str
    max_age_days: int | None
    trust_level: str
    consent_required: bool
    endpoint_url: str | None
    timeout_ms: int
    mode: Literal["held", "federated"]
    updated_at: datetime


class AccessRuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    consumer: str = Field(max_length=40, description="Member code that may receive the type")
    certificate_type: str = Field(max_length=40)
    item_id: str | None = Field(default=None, min_length=1, max_length=40, description="Omit: for any item")


class AccessRulePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    consumer_code: str
    certificate_type: str
    item_id: str | None
    item_version: int | None
    source: str = Field(description="manual / catalog (derived from the item's materials) / seed")
    created_at: datetime
    revoked_at: datetime | None
