"""Material resolution (材料预审, 一证通办): which materials datashare supplies now, which to bring."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.certificates import IDENTITY_DOCUMENT
from datashare import clock
from datashare.accesslog.chain import append, atomic
from datashare.evidence.decision import Assessment, assess, load_context
from datashare.evidence.providers import ProviderClient
from datashare.evidence.schemas import (
    LogLink,
    MaterialResolution,
    RequestEcho,
    ResolutionCreate,
    ResolutionPublic,
)
from datashare.evidence.steps import fetch_federated, input_refusal, log_record, resolve_caller
from datashare.reasons import REASONS, refusal
from datashare.signing import sha256_hex
from datashare.subjects import parse_subject
from servicekit.identity import Identity

log = logging.getLogger(__name__)
OWN_MESSAGES = {
    "available": "可由数据共享获取，无需提交 (datashare supplies it)",
    "identity_document": "请出示本人居民身份证 (show the applicant's ID card: 一证通办)",
    "no_certificate_type": "该材料不在证照目录中，请自备 (not in the evidence catalogue: bring it)",
    "other_subject": "该材料的主体不是申请主体，请自备 (the material is about someone else: bring it)",
}


def _material(
    material_name: str, required: bool, code: str | None, assessment: Assessment
) -> MaterialResolution:
    reason = assessment.reason or "available"
    message = OWN_MESSAGES.get(reason) or f"{REASONS[reason].message}，请自备 (bring it)"
    source = None
    if assessment.reason is None and assessment.kind is not None:
        source = "federated" if assessment.kind.endpoint_url else "held"
    return MaterialResolution(
        name=material_name,
        required=required,
        certificate_type=code,
        supply="datashare" if assessment.reason is None else "applicant",
        reason=reason,
        message=message,
        source=source,
    )


async def _assess_all(
    assessments: dict[str, Assessment], providers: ProviderClient, echo: RequestEcho, today: date
) -> dict[str, Assessment]:
    """Federated providers are asked concurrently, each within its own timeout."""
    federated = [code for code, a in assessments.items() if a.federated]
    answers = await asyncio.gather(
        *(fetch_federated(providers, assessments[c], echo, today) for c in federated)
    )
    return {**assessments, **dict(zip(federated, answers, strict=True))}


async def _decide(
    conn: AsyncConnection, identity: Identity, body: ResolutionCreate, codes: list[str], today: date
) -> tuple[RequestEcho, str | None, dict[str, Assessment]]:
    caller = await resolve_caller(conn, identity, body.consumer)
    # A pre-check comes before there is a case: the purpose defaults to the pre-check itself.
    reason = input_refusal(
        caller, body.case_number or "材料预审", body.officer or caller.client_id, body.subject_id
    )
    echo = RequestEcho(
        id=uuid.uuid4().hex,
        requested_at=datetime.now(UTC),
        consumer=caller.consumer,
        subsystem=None,
        client_id=caller.client_id,
        officer=body.officer,
        certificate_type=",".join(codes),
        subject_id=body.subject_id,
        item_id=body.item_id,
        case_number=body.case_number,
    )
    if reason is not None:
        return echo, reason, {}
    subject = parse_subject(body.subject_id)
    context = await load_context(
        conn,
        consumer=caller.consumer,
        client_id=caller.client_id,
        subject=subject,
        item_id=body.item_id,
        case_number=body.case_number,
        type_codes=codes,
    )
    echo = echo.model_copy(update={"subsystem": context.subsystem})
    if context.member_name is None:
        return echo, "unknown_consumer", {}
    assessments = {code: assess(context, code, subject, today) for code in codes}
    for code, a in assessments.items():
        if a.reason == "invalid_subject":  # a person's certificate for an enterprise, or back
            assessments[code] = Assessment("other_subject", a.kind)
    return echo, None, assessments


async def resolve(
    engine: AsyncEngine, identity: Identity, body: ResolutionCreate, providers: ProviderClient
) -> ResolutionPublic:
    today = clock.today()
    codes = sorted({m.certificate_type for m in body.materials if m.certificate_type} - {IDENTITY_DOCUMENT})
    async with atomic(engine) as conn:
        echo, reason, assessments = await _decide(conn, identity, body, codes, today)
    # Providers are asked with no database connection held.
    assessments = await _assess_all(assessments, providers, echo, today)
    if reason is not None:
        record = log_record(echo, kind="resolution", outcome="denied", reason=reason, response_hash=None)
        async with atomic(engine) as conn:
            await append(conn, record, None)
        log.info("resolution %s denied: %s (consumer %s)", echo.id, reason, echo.consumer)
        raise refusal(reason, echo.id)
    materials = []
    for m in body.materials:
        if m.certificate_type is None:
            verdict = Assessment("no_certificate_type")
        elif m.certificate_type == IDENTITY_DOCUMENT:
            verdict = Assessment("identity_document")
        else:
            verdict = assessments[m.certificate_type]
        materials.append(_material(m.name, m.required, m.certificate_type, verdict))
    response_hash = sha256_hex([m.model_dump(mode="json") for m in materials])
    record = log_record(echo, kind="resolution", outcome="checked", reason=None, response_hash=response_hash)
    async with atomic(engine) as conn:
        link = await append(conn, record, None)
    to_bring = [m for m in materials if m.supply == "applicant"]
    return ResolutionPublic(
        id=echo.id,
        subject_mask=record["subject_mask"],
        item_id=body.item_id,
        item_version=body.item_version,
        materials=materials,
        supplied=[m.name for m in materials if m.supply == "datashare"],
        to_bring=[m.name for m in to_bring],
        one_certificate=all(m.reason == "identity_document" for m in to_bring if m.required),
        log=LogLink(seq=link.seq, hash=link.hash.hex()),
    )
