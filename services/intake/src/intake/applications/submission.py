"""Submitting applications, one or a 一件事 bundle: everything checked first, then one transaction writes.

Complete applications are accepted at once (a window 即办件 is completed there); with a signed
promise the missing 容缺 materials are deferred; otherwise an online application is returned with
the one-time list of what is missing, and a window application waits for the window's decision.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake.applications import decisions
from intake.applications.caseno import next_case_number
from intake.applications.checks import check_ticket, cited_precheck
from intake.applications.context import Context, china_date
from intake.applications.datashare import Verdict
from intake.applications.files import check_files
from intake.applications.history import Journal
from intake.applications.items import applicable_item, situation_materials
from intake.applications.materials import MISSING, Material, assess, given_by_name, keep, to_fetch
from intake.applications.models import Output, RongquePromise, StoredFile
from intake.applications.schemas import Applicant, ItemRequest, MaterialGiven
from intake.models import Application, Base, CatalogItem
from servicekit.identity import Identity

T = TypeVar("T")


@dataclass
class Prepared:
    """One item's application, checked and ready to write."""

    request: ItemRequest
    item: CatalogItem
    specs: list[dict[str, Any]]
    given: dict[str, MaterialGiven]
    files: dict[str, StoredFile]
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    reference: str | None = None
    fetch: list[dict[str, Any]] = field(default_factory=list)  # still to ask datashare about


async def prepare(
    session: AsyncSession,
    ctx: Context,
    identity: Identity,
    applicant: Applicant,
    request: ItemRequest,
    now: datetime,
    at: str = "",
) -> Prepared:
    """Every check of one item's application; nothing is written."""
    item = await applicable_item(
        session, ctx.items, request.item_id, request.item_version, china_date(now), f"{at}item_id"
    )
    specs = situation_materials(item, request.situation_code, f"{at}situation_code")
    given = given_by_name(specs, request.materials, f"{at}materials")
    files = await check_files(session, identity, request.materials, f"{at}materials")
    prepared = Prepared(request, item, specs, given, files)
    precheck = await cited_precheck(
        session, ctx, applicant.applicant_id, item, request, now, f"{at}precheck_id"
    )
    if precheck is not None:
        prepared.reference = precheck.resolution_id
        prepared.verdicts = {
            m["name"]: Verdict(m["status"], m["reason"], m["message"])
            for m in precheck.materials
            if m["status"] == "datashare"
        }
    else:
        prepared.fetch = to_fetch(specs, given)
    return prepared


async def resolve_live(ctx: Context, identity: Identity, applicant: Applicant, items: list[Prepared]) -> None:
    """Without a 预审, ask datashare now (outside any transaction) what it supplies."""
    for prepared in items:
        if prepared.fetch:
            resolution = await ctx.datashare.resolve(
                subject_id=applicant.applicant_id,
                item_id=prepared.item.item_id,
                item_version=prepared.item.version,
                materials=prepared.fetch,
                officer=identity.client_id,
            )
            prepared.verdicts, prepared.reference, prepared.fetch = (
                resolution.verdicts,
                resolution.reference,
                [],
            )


def _materials(prepared: Prepared) -> list[Material]:
    states = assess(prepared.specs, prepared.given, prepared.verdicts, prepared.reference)
    return [
        Material(
            name=s.name,
            required=bool(s.spec.get("required")),
            key=bool(s.spec.get("key")),
            rongque_allowed=s.rongque_able,
            certificate_type=s.spec.get("certificate_type"),
            status=s.status,
            file_id=s.file_id,
            evidence_ref=s.evidence_ref,
        )
        for s in states
    ]


@dataclass(frozen=True)
class Submission:
    """What all items of one submission share."""

    identity: Identity
    applicant: Applicant
    channel: str
    now: datetime
    key: str | None = None
    request_hash: str | None = None
    bundle_id: str | None = None


@dataclass
class Written:
    application: Application
    materials: list[Material]
    promise: RongquePromise | None = None


def _values(row: Base) -> dict[str, Any]:
    """The attributes a new row was given, for a Core insert (the others take their column defaults)."""
    return {k: v for k, v in vars(row).items() if not k.startswith("_")}


_INSERT_APPLICATION = sa.insert(Application.__table__)  # type: ignore[arg-type]


async def write(session: AsyncSession, ctx: Context, sub: Submission, prepared: Prepared) -> Written:
    """The application, its materials and history, and the decision the submission already allows.

    Everything is decided in memory first, then written as a few Core inserts in foreign-key order
    (the application with its materials, then the journal): the unit of work's bookkeeping was most of a submission's CPU.
    """
    a, item, actor = sub.applicant, prepared.item, sub.identity.client_id
    application = Application(
        id=uuid.uuid4().hex,
        case_number=await next_case_number(session, item.implementation_code, china_date(sub.now)),
        item_id=item.item_id,
        item_version=item.version,
        item_name=item.name,
        department_code=item.department_code,
        deciding_level=item.deciding_level,
        deciding_department=item.deciding_department,
        handling_type=item.handling_type,
        situation_code=prepared.request.situation_code,
        applicant_kind=a.applicant_kind,
        applicant_id=a.applicant_id,
        applicant_name=a.applicant_name,
        applicant_phone=a.applicant_phone,
        legal_representative=a.legal_representative,
        legal_representative_id=a.legal_representative_id,
        agent_id=a.agent.id_number if a.agent else None,
        agent_name=a.agent.name if a.agent else None,
        agent_phone=a.agent.phone if a.agent else None,
        channel=sub.channel,
        ticket_id=a.ticket_id,
        bundle_id=sub.bundle_id,
        precheck_id=prepared.request.precheck_id,
        submitted_by=actor[:100],
        status="submitted",
        idempotency_key=sub.key,
        request_hash=sub.request_hash,
        created_at=sub.now,
        accepted_at=None,
        one_certificate=False,
        instant=False,
        rongque=False,
    )
    rows = _materials(prepared)
    journal = Journal()
    journal.move(application, "submitted", sub.now, actor)
    written = Written(application, rows)
    if not any(r.status == MISSING for r in rows):
        decisions.accept(journal, ctx, application, item, rows, prepared.files, sub.now, actor)
    elif prepared.request.rongque is not None:
        written.promise = await decisions.accept_with_promise(
            session,
            journal,
            ctx,
            application,
            item,
            rows,
            prepared.files,
            prepared.request.rongque,
            sub.now,
            actor,
        )
    elif sub.channel == "online":
        decisions.return_missing(journal, application, rows, [], None, sub.now, actor)
    if a.delivery is not None and not application.instant and application.status != "returned":
        add_output_choice(journal, application, a, sub.now)
    keep(application, rows)
    await session.execute(_INSERT_APPLICATION, [_values(application)])
    await journal.write(session)
    return written


class _Repeated(Exception):
    """The Idempotency-Key was seen before: answer with the earlier result."""


async def submit(
    session: AsyncSession,
    ctx: Context,
    sub: Submission,
    requests: list[tuple[str, ItemRequest]],
    find_earlier: Callable[[], Awaitable[T | None]],
    write_all: Callable[[list[Prepared]], Awaitable[T]],
) -> tuple[T, bool]:
    """Check everything and write in one transaction; (result, created).

    The Idempotency-Key is checked by its unique index, not read first: a new request pays no extra
    round trip; a repeated one fails its insert, rolls back (leaving a gap in the case numbers) and
    gets the earlier result, or a 409 when the key came with another request. When datashare must
    be asked first, that happens between two transactions (no connection is held while it answers).
    """

    async def check_and_write() -> T:
        fetched: list[Prepared] | None = None
        for _ in range(2):
            async with session.begin():
                await check_ticket(session, sub.identity, sub.applicant.ticket_id, sub.channel)
                prepared = [
                    await prepare(session, ctx, sub.identity, sub.applicant, r, sub.now, at)
                    for at, r in requests
                ]
                for mine, answer in zip(prepared, fetched or [], strict=False):
                    mine.verdicts, mine.reference, mine.fetch = answer.verdicts, answer.reference, []
                if not any(p.fetch for p in prepared):
                    return await write_all(prepared)
                if await find_earlier() is not None:  # a repeat: datashare need not be asked again
                    raise _Repeated
            await resolve_live(ctx, sub.identity, sub.applicant, prepared)
            fetched = prepared
        raise AssertionError("the second round never needs datashare")

    try:
        return await check_and_write(), True
    except _Repeated:
        pass
    except IntegrityError as exc:
        if "idempotency_key" not in str(exc.orig):  # the application's or the bundle's key
            raise
    async with session.begin():
        earlier = await find_earlier()
    assert earlier is not None  # the unique index saw it committed
    return earlier, False


def add_output_choice(
    journal: Journal, application: Application, applicant: Applicant, now: datetime
) -> None:
    """The delivery chosen with the application; it takes effect when the result is ready."""
    choice = applicant.delivery
    assert choice is not None
    application.delivery_method = choice.method
    journal.add(
        Output(
            application_id=application.id,
            method=choice.method,
            status="chosen",
            attempts=0,
            recipient_name=choice.recipient_name,
            recipient_phone=choice.recipient_phone,
            address=choice.address,
            updated_at=now,
        )
    )
