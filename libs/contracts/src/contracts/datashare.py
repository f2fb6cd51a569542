"""Events written by the datashare service on `datashare.certificates` and `datashare.access`."""

from __future__ import annotations

from datetime import date, datetime

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


class EvidenceReleased(EventData):
    """datashare.evidence.released: a consumer obtained a certificate about a subject."""

    request_id: str
    certificate_type: str
    subject_hash: str
    consumer_code: str
    case_number: str
    released_at: datetime
