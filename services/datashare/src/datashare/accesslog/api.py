"""HTTP routes of the access log: entries, the citizen's "who looked at my data", chain verification."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query

from datashare.accesslog import service
from datashare.accesslog.schemas import AccessLogEntryPublic, SubjectLog, SubjectQuery, VerifyReport
from datashare.deps import SignerDep
from servicekit.auth import requires
from servicekit.deps import SessionDep
from servicekit.identity import Identity

router = APIRouter(tags=["datashare"])


@router.get(
    "/access-log", response_model=list[AccessLogEntryPublic], summary="Access log entries, newest first"
)
async def list_access_log(
    session: SessionDep,
    identity: Annotated[Identity, Depends(requires("datashare:request"))],
    consumer: Annotated[str | None, Query(max_length=40, description="Operators only")] = None,
    outcome: Literal["granted", "denied", "checked"] | None = None,
    before_seq: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AccessLogEntryPublic]:
    """Operators see every entry; a member sees only the requests it made. Subjects are masked."""
    entries = await service.list_entries(session, identity, consumer, outcome, before_seq, limit)
    return [AccessLogEntryPublic.model_validate(e) for e in entries]


@router.get(
    "/evidence-requests/{request_id}",
    response_model=AccessLogEntryPublic,
    summary="One request as the access log keeps it",
)
async def get_evidence_request(
    request_id: Annotated[str, Path(max_length=32)],
    session: SessionDep,
    identity: Annotated[Identity, Depends(requires("datashare:request"))],
) -> AccessLogEntryPublic:
    return AccessLogEntryPublic.model_validate(await service.get_entry(session, identity, request_id))


@router.post(
    "/access-log/subject",
    response_model=SubjectLog,
    summary="Who looked at my data (数据访问记录)",
)
async def subject_access_log(
    body: SubjectQuery,
    session: SessionDep,
    identity: Annotated[Identity, Depends(requires("datashare:read"))],
) -> SubjectLog:
    """For a citizen: every request about them (when, which department, which certificate type,
    for which case, granted or denied). The subject comes from the citizen's verified identity,
    never from a URL; operators name it in the body."""
    return await service.subject_view(session, identity, body)


@router.get(
    "/access-log/verify",
    response_model=VerifyReport,
    summary="Verify the hash chain and report the first broken link",
    dependencies=[Depends(requires("admin"))],
)
async def verify_access_log(session: SessionDep, signer: SignerDep) -> VerifyReport:
    """Recomputes every link from the genesis (also `python -m datashare.verify`)."""
    return await service.verify_log(session, signer)
