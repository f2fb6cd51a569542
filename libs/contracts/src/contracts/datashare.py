"""Events written by the datashare service on `datashare.certificates` and `datashare.access`."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from contracts.envelope import EventData


class CertificateRegistered(EventData):
    """datashare.certificate.registered: a provider registered a certificate it holds."""

    certificate_id: str
    certificate_type: str
    number: str
    subject_id: str
    issuer_code: str
    issued_on: date
    valid_until: date | None = None


class CertificateRevoked(EventData):
    """datashare.certificate.revoked: the issuer withdrew a certificate (吊销/注销); it is no longer shared."""

    certificate_id: str
    certificate_type: str
    number: str
    subject_id: str
    issuer_code: str
    reason: str
    revoked_at: datetime


class CertificateExpired(EventData):
    """datashare.certificate.expired: a certificate passed its validity date (有效期届满)."""

    certificate_id: str
    certificate_type: str
    number: str
    subject_id: str
    issuer_code: str
    valid_until: date
    expired_at: datetime


class EvidenceReleased(EventData):
    """datashare.evidence.released: a consumer obtained a certificate about a subject."""

    request_id: str
    certificate_type: str
    subject_hash: str
    consumer_code: str
    case_number: str
    released_at: datetime
    item_id: str | None = Field(default=None, description="The item (事项) the evidence was requested for")
