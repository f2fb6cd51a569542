"""API schemas of the access log: entries, the citizen's view, the chain verification report."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class AccessLogEntryPublic(BaseModel):
    """A request as the log keeps it; the evidence itself is never stored, only its hash."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    id: str
    at: datetime
    kind: str = Field(description="evidence / resolution")
    consumer_code: str
    subsystem_code: str | None
    officer: str | None
    certificate_type: str
    subject_mask: str
    case_number: str | None
    item_id: str | None
    outcome: str = Field(description="granted / denied / checked")
    reason: str | None
    request_hash: str
    response_hash: str | None


class SubjectQuery(BaseModel):
    """Whose log to show: citizens leave it out (their own); operators name the subject."""

    model_config = ConfigDict(extra="forbid")

    subject_id: str | None = Field(default=None, max_length=40)
    limit: int = Field(default=100, ge=1, le=500)


class SubjectAccess(BaseModel):
    """谁查看了我的数据: when, which department, which certificate type, for which case, the outcome."""

    at: datetime
    consumer_code: str
    consumer_name: str | None
    certificate_types: list[str]
    certificate_names: list[str]
    kind: str
    case_number: str | None
    item_id: str | None
    outcome: str
    reason: str | None


class SubjectLog(BaseModel):
    subject_mask: str
    entries: list[SubjectAccess]


class VerifyReport(BaseModel):
    ok: bool
    checked: int = Field(description="Entries verified from the genesis")
    head_seq: int
    head_hash: str
    first_broken_seq: int | None = None
    reason: str | None = None
    head_signature: str = Field(
        description="Compact JWS over {head_seq, head_hash, verified_at}: a signed checkpoint"
    )
