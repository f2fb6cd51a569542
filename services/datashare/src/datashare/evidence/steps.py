"""Steps shared by evidence requests and resolutions: who asks, input checks, the log record, providers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from datashare.evidence.decision import Assessment, consumer_of, member_of_client, validity_problem
from datashare.evidence.providers import ProviderClient, ProviderFailure
from datashare.evidence.schemas import RequestEcho
from datashare.signing import sha256_hex
from datashare.subjects import InvalidSubject, mask_subject, parse_subject, subject_hash
from servicekit.identity import Identity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Caller:
    """Who asks, resolved from the verified identity (and, for operators, the member they name)."""

    consumer: str
    client_id: str
    refusal: str | None


async def resolve_caller(conn: AsyncConnection, identity: Identity, named: str | None) -> Caller:
    consumer, problem = consumer_of(identity, named)
    if problem is None and identity.kind == "system" and identity.department is None:
        consumer = await member_of_client(conn, identity.client_id) or consumer
    return Caller(consumer[:40], identity.client_id[:100], problem)


def input_refusal(
    caller: Caller, case_number: str | None, officer: str | None, subject_id: str
) -> str | None:
    if caller.refusal is not None:
        return caller.refusal
    if case_number is None or not case_number.strip():
        return "purpose_missing"
    if officer is None or not officer.strip():
        return "officer_missing"
    try:
        parse_subject(subject_id)
    except InvalidSubject:
        return "invalid_subject"
    return None


def log_record(
    echo: RequestEcho, *, kind: str, outcome: str, reason: str | None, response_hash: str | None
) -> dict[str, Any]:
    """The access-log record of a request: the subject only as hash and mask."""
    return {
        "id": echo.id,
        "at": echo.requested_at,
        "kind": kind,
        "consumer_code": echo.consumer,
        "subsystem_code": echo.subsystem,
        "client_id": echo.client_id,
        "officer": echo.officer,
        "certificate_type": echo.certificate_type[:400],
        "subject_hash": subject_hash(echo.subject_id),
        "subject_mask": mask_subject(echo.subject_id),
        "case_number": echo.case_number,
        "item_id": echo.item_id,
        "outcome": outcome,
        "reason": reason,
        "request_hash": sha256_hex(echo.model_dump(mode="json")),
        "response_hash": response_hash,
    }


async def fetch_federated(
    providers: ProviderClient, assessment: Assessment, echo: RequestEcho, today: date
) -> Assessment:
    """Ask the provider live; its answer goes through the same validity rules as a held copy."""
    kind = assessment.kind
    assert kind is not None
    assert kind.endpoint_url is not None
    query = {
        "request_id": echo.id,
        "certificate_type": kind.code,
        "subject_id": echo.subject_id.strip().upper(),
        "case_number": echo.case_number,
        "item_id": echo.item_id,
        "consumer": echo.consumer,
    }
    try:
        answer = await providers.fetch(kind.endpoint_url, kind.timeout_ms, query)
    except ProviderFailure as failure:
        log.warning(
            "provider of %s failed for request %s: %s (%s)", kind.code, echo.id, failure.code, failure
        )
        return Assessment(failure.code, kind)
    if answer is None:
        return Assessment("certificate_not_found", kind)
    return Assessment(validity_problem(answer, kind, today), kind, answer)
