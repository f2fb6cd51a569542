"""API schemas of evidence requests, their signed answers, and material resolution."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SUBJECT_DOC = "被查询主体：居民身份证号码或统一社会信用代码 (in the body: personal data never goes in URLs)"
CONSUMER_DOC = "代表哪个成员单位调用；仅运维人员填写，其他调用方即为其本单位 (operators only)"


class EvidenceRequestCreate(BaseModel):
    """A consumer asks for certificate type T about subject S, for a case of an item, by an officer."""

    model_config = ConfigDict(extra="forbid")

    certificate_type: str = Field(min_length=1, max_length=40, examples=["marriage_cert"])
    subject_id: str = Field(min_length=1, max_length=40, description=SUBJECT_DOC)
    item_id: str = Field(min_length=1, max_length=40, description="事项: the item the case is about")
    case_number: str | None = Field(
        default=None,
        max_length=64,
        description="办件编号: the purpose; required (refused as purpose_missing)",
    )
    officer: str | None = Field(
        default=None, max_length=60, description="经办人: the acting officer; required (officer_missing)"
    )
    consumer: str | None = Field(default=None, max_length=40, description=CONSUMER_DOC)


class RequestEcho(BaseModel):
    """The request as datashare understood it; `request_hash` is SHA-256 of its canonical JSON."""

    id: str
    requested_at: datetime
    consumer: str
    subsystem: str | None
    client_id: str
    officer: str | None
    certificate_type: str
    subject_id: str
    item_id: str | None
    case_number: str | None


class Evidence(BaseModel):
    """The certificate released; `response_hash` is SHA-256 of its canonical JSON."""

    certificate_type: str
    certificate_name: str
    number: str
    subject_id: str
    holder_name: str | None
    issuer_code: str
    issued_on: date
    valid_until: date | None
    fields: dict[str, str]
    trust_level: str = Field(description="材料可信等级 A-D")
    source: Literal["held", "federated"]
    provider_code: str


class LogLink(BaseModel):
    seq: int = Field(description="Position in the access log")
    hash: str = Field(description="The chain hash at that position (hex)")


class EvidencePublic(BaseModel):
    """A granted request: the evidence, bound to the request and signed (compact JWS, EdDSA).

    Verify: fetch GET /keys, pick the key whose `kid` is in the JWS header, check the Ed25519
    signature over `<header>.<payload>`, then check that the payload's `request_hash` and
    `response_hash` equal SHA-256 (hex) of the canonical JSON (keys sorted, no whitespace, UTF-8)
    of `request` and `evidence` as received.
    """

    id: str
    status: Literal["granted"] = "granted"
    request: RequestEcho
    evidence: Evidence
    request_hash: str
    response_hash: str
    log: LogLink
    key_id: str
    signature: str = Field(
        description="Compact JWS: payload {jti, iat, request_hash, response_hash, log_seq, log_hash}"
    )


class MaterialIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    required: bool = True
    certificate_type: str | None = Field(
        default=None, max_length=40, description="From the item's material list"
    )


class ResolutionCreate(BaseModel):
    """An item version's materials and a subject: which can datashare supply now (材料预审, 一证通办)."""

    model_config = ConfigDict(extra="forbid")

    subject_id: str = Field(min_length=1, max_length=40, description=SUBJECT_DOC)
    materials: list[MaterialIn] = Field(min_length=1, max_length=100)
    item_id: str | None = Field(default=None, max_length=40)
    item_version: int | None = Field(default=None, ge=1, le=100000)
    case_number: str | None = Field(default=None, max_length=64, description="办件编号 when there is one yet")
    officer: str | None = Field(default=None, max_length=60)
    consumer: str | None = Field(default=None, max_length=40, description=CONSUMER_DOC)


class MaterialResolution(BaseModel):
    name: str
    required: bool
    certificate_type: str | None
    supply: Literal["datashare", "applicant"] = Field(
        description="datashare: fetched now; applicant: bring it"
    )
    reason: str = Field(
        description="available, identity_document, no_certificate_type, other_subject, or a refusal code"
    )
    message: str
    source: Literal["held", "federated"] | None = None


class ResolutionPublic(BaseModel):
    id: str
    subject_mask: str
    item_id: str | None
    item_version: int | None
    materials: list[MaterialResolution]
    supplied: list[str] = Field(description="Materials datashare supplies (不需提交)")
    to_bring: list[str] = Field(description="Materials the applicant must bring or upload (需提交)")
    one_certificate: bool = Field(description="一证通办: every required material but the ID card is supplied")
    log: LogLink


class Jwk(BaseModel):
    kty: str = "OKP"
    crv: str = "Ed25519"
    x: str = Field(description="The public key, base64url")
    kid: str = Field(description="RFC 7638 thumbprint")
    use: str = "sig"
    alg: str = "EdDSA"


class KeySet(BaseModel):
    """A JWK Set (RFC 7517) of every key that ever signed evidence here."""

    keys: list[Jwk]
    current_kid: str
