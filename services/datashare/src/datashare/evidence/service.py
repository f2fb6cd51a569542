"""The evidence request use case: decide, fetch from a federated provider if needed, log, sign."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.datashare import EvidenceReleased
from contracts.envelope import new_event
from datashare import clock
from datashare.accesslog.chain import Link, append, atomic
from datashare.evidence.decision import Assessment, Context, assess, load_context
from datashare.evidence.providers import ProviderClient
from datashare.evidence.schemas import Evidence, EvidencePublic, EvidenceRequestCreate, LogLink, RequestEcho
from datashare.evidence.steps import fetch_federated, input_refusal, log_record, resolve_caller
from datashare.reasons import refusal
from datashare.signing import Signer, sha256_hex
from datashare.subjects import parse_subject
from messaging.outbox import outbox_row
from servicekit.identity import Identity
from servicekit.logs import request_id_var

log = logging.getLogger(__name__)
SOURCE = "/datashare"


def evidence_of(assessment: Assessment) -> Evidence:
    kind, certificate = assessment.kind, assessment.certificate
    assert kind is not None
    assert certificate is not None
    return Evidence(
        certificate_type=kind.code,
        certificate_name=kind.name,
        number=certificate.number,
        subject_id=certificate.subject_id,
        holder_name=certificate.holder_name,
        issuer_code=certificate.issuer_code,
        issued_on=certificate.issued_on,
        valid_until=certificate.valid_until,
        fields=certificate.fields,
        trust_level=kind.trust_level,
        source="federated" if kind.endpoint_url else "held",
        provider_code=kind.provider_code,
    )


async def _decide(
    conn: AsyncConnection, identity: Identity, body: EvidenceRequestCreate, today: date
) -> tuple[RequestEcho, Assessment]:
    caller = await resolve_caller(conn, identity, body.consumer)
    reason = input_refusal(caller, body.case_number, body.officer, body.subject_id)
    assessment, context = Assessment(reason), None
    if reason is None:
        subject = parse_subject(body.subject_id)
        context = await load_context(
            conn,
            consumer=caller.consumer,
            client_id=caller.client_id,
            subject=subject,
            item_id=body.item_id,
            case_number=body.case_number,
            type_codes=[body.certificate_type],
        )
        assessment = assess(context, body.certificate_type, subject, today)
    echo = RequestEcho(
        id=uuid.uuid4().hex,
        requested_at=datetime.now(UTC),
        consumer=caller.consumer,
        subsystem=context.subsystem if isinstance(context, Context) else None,
        client_id=caller.client_id,
        officer=body.officer,
        certificate_type=body.certificate_type,
        subject_id=body.subject_id,
        item_id=body.item_id,
        case_number=body.case_number,
    )
    return echo, assessment


async def _record(
    conn: AsyncConnection, echo: RequestEcho, assessment: Assessment
) -> tuple[Link, dict[str, Any]]:
    """Append the outcome to the log; a grant carries its evidence.released event in the same write."""
    if assessment.reason is not None:
        record = log_record(
            echo, kind="evidence", outcome="denied", reason=assessment.reason, response_hash=None
        )
        return await append(conn, record, None), record
    evidence = evidence_of(assessment)
    response_hash = sha256_hex(evidence.model_dump(mode="json"))
    record = log_record(echo, kind="evidence", outcome="granted", reason=None, response_hash=response_hash)
    released = EvidenceReleased(
        request_id=echo.id,
        certificate_type=echo.certificate_type,
        subject_hash=record["subject_hash"],
        consumer_code=echo.consumer,
        case_number=echo.case_number or "",
        released_at=echo.requested_at,
        item_id=echo.item_id,
    )
    event = new_event(
        type="datashare.evidence.released",
        source=SOURCE,
        subject=record["subject_hash"],
        data=released,
        requestid=request_id_var.get(),
    )
    return await append(conn, record, outbox_row(event)), {**record, "evidence": evidence}


async def request_evidence(
    engine: AsyncEngine,
    identity: Identity,
    body: EvidenceRequestCreate,
    providers: ProviderClient,
    signer: Signer,
) -> EvidencePublic:
    """Decide and answer one request; every outcome is in the access log before the answer leaves.

    A held certificate is decided and logged on one connection (one transaction on SQLite); a
    federated provider is asked with no connection held, then the outcome is logged.
    """
    today = clock.today()
    written: tuple[Link, dict[str, Any]] | None = None
    async with atomic(engine) as conn:
        echo, assessment = await _decide(conn, identity, body, today)
        if not assessment.federated:
            written = await _record(conn, echo, assessment)
    if written is None:
        assessment = await fetch_federated(providers, assessment, echo, today)
        async with atomic(engine) as conn:
            written = await _record(conn, echo, assessment)
    link, record = written
    if assessment.reason is not None:
        log.info(
            "evidence request %s denied: %s (consumer %s, %s, subject %s)",
            echo.id,
            assessment.reason,
            echo.consumer,
            echo.certificate_type,
            record["subject_mask"],
        )
        raise refusal(assessment.reason, echo.id)
    claims = {
        "iss": "wucheng-datashare",
        "jti": echo.id,
        "iat": int(echo.requested_at.timestamp()),
        "request_hash": record["request_hash"],
        "response_hash": record["response_hash"],
        "log_seq": link.seq,
        "log_hash": link.hash.hex(),
    }
    return EvidencePublic(
        id=echo.id,
        request=echo,
        evidence=record["evidence"],
        request_hash=record["request_hash"],
        response_hash=record["response_hash"],
        log=LogLink(seq=link.seq, hash=link.hash.hex()),
        key_id=signer.kid,
        signature=signer.sign(claims),
    )
