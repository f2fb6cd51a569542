"""Application use cases: submit one or a bundle, read one, the window's decision, late materials."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from intake.applications import decisions, events
from intake.applications.access import check_may_apply, check_window, may_see
from intake.applications.checks import fingerprint, replayed
from intake.applications.context import Context, china_date
from intake.applications.files import check_files
from intake.applications.history import Journal
from intake.applications.materials import (
    DATASHARE,
    DEFERRED,
    FILE,
    MISSING,
    OPTIONAL,
    SUPPLIED,
    Material,
    keep,
    materials_of,
)
from intake.applications.models import Bundle, RongquePromise, StoredFile
from intake.applications.schemas import ApplicationCreate, BundleCreate, DecisionCreate, MaterialsSupplied
from intake.applications.submission import Prepared, Submission, Written, submit, write
from intake.hall.rules import conflict, invalid
from intake.models import Application, CatalogItem
from servicekit.auth import forbidden
from servicekit.identity import Identity
from servicekit.problems import not_found

IN_PROGRESS = ("accepted", "processing", "suspended")


async def submit_application(
    session: AsyncSession,
    ctx: Context,
    identity: Identity,
    body: ApplicationCreate,
    key: str | None,
    now: datetime,
) -> tuple[Written, bool]:
    channel = check_may_apply(identity, body)
    request_hash = fingerprint(body)
    sub = Submission(identity, body, channel, now, key, request_hash)

    async def earlier() -> Written | None:
        found = await replayed(session, identity, Application, key, request_hash)
        return None if found is None else Written(found, materials_of(found))

    async def write_one(prepared: list[Prepared]) -> Written:
        return await write(session, ctx, sub, prepared[0])

    return await submit(session, ctx, sub, [("", body)], earlier, write_one)


async def submit_bundle(
    session: AsyncSession,
    ctx: Context,
    identity: Identity,
    body: BundleCreate,
    key: str | None,
    now: datetime,
) -> tuple[tuple[Bundle, list[Written]], bool]:
    """一件事: each item its own application and case number, all or none written."""
    channel = check_may_apply(identity, body)
    request_hash = fingerprint(body)
    bundle_id = uuid.uuid4().hex
    sub = Submission(identity, body, channel, now, None, None, bundle_id)
    seen: set[str] = set()
    for n, item in enumerate(body.items):
        if item.item_id in seen:
            raise invalid(
                "duplicate_item", f"一件事中事项 {item.item_id} 重复", f"items.{n}.item_id", "distinct"
            )
        seen.add(item.item_id)

    async def earlier() -> tuple[Bundle, list[Written]] | None:
        found = await replayed(session, identity, Bundle, key, request_hash)
        if found is None:
            return None
        if found.created_by != identity.client_id or found.applicant_id != body.applicant_id:
            raise conflict(
                "idempotency_key_reused", "幂等键已被使用 (key in use)", "Idempotency-Key", "own_key"
            )
        return found, [Written(a, materials_of(a)) for a in await bundle_members(session, found.id)]

    async def write_all(prepared: list[Prepared]) -> tuple[Bundle, list[Written]]:
        bundle = Bundle(
            id=bundle_id,
            name=body.name,
            applicant_id=body.applicant_id,
            channel=channel,
            idempotency_key=key,
            request_hash=request_hash,
            created_by=identity.client_id[:100],
            created_at=now,
        )
        session.add(bundle)
        return bundle, [await write(session, ctx, sub, p) for p in prepared]

    requests = [(f"items.{n}.", item) for n, item in enumerate(body.items)]
    return await submit(session, ctx, sub, list(requests), earlier, write_all)


async def bundle_members(session: AsyncSession, bundle_id: str) -> list[Application]:
    query = sa.select(Application).where(Application.bundle_id == bundle_id).order_by(Application.created_at)
    return list(await session.scalars(query))


async def visible_application(
    session: AsyncSession, identity: Identity, application_id: str, *, lock: bool = False
) -> Application:
    query = sa.select(Application).where(Application.id == application_id)
    application = await session.scalar(query.with_for_update() if lock else query)
    # Someone else's application answers exactly like a missing one: ids cannot be probed.
    if application is None or not may_see(identity, application):
        raise not_found("申请 application", application_id)
    return application


async def files_of(session: AsyncSession, rows: list[Material]) -> dict[str, StoredFile]:
    ids = {r.file_id for r in rows if r.file_id}
    if not ids:
        return {}
    return {f.id: f for f in await session.scalars(sa.select(StoredFile).where(StoredFile.id.in_(ids)))}


async def decide(
    session: AsyncSession,
    ctx: Context,
    identity: Identity,
    application_id: str,
    body: DecisionCreate,
    now: datetime,
) -> Written:
    """The window's decision on an application waiting for one; any other state is a conflict."""
    check_window(identity)
    actor = identity.client_id
    async with session.begin():
        application = await visible_application(session, identity, application_id, lock=True)
        if application.status != "submitted":
            raise conflict(
                "application_state",
                f"申请状态为 {application.status}，只能对待受理的申请作出受理决定 (needs submitted)",
                "status",
                "submitted",
            )
        rows = materials_of(application)
        item = await session.get(CatalogItem, (application.item_id, application.item_version))
        assert item is not None  # the foreign key keeps it
        written, journal = Written(application, rows), Journal()
        missing = [r.name for r in rows if r.status == MISSING]
        if body.kind == "accept":
            if missing:
                raise conflict(
                    "materials_missing",
                    f"材料不全，不能受理 (missing): {'、'.join(missing)}",
                    "kind",
                    "complete_materials",
                )
            decisions.accept(journal, ctx, application, item, rows, await files_of(session, rows), now, actor)
        elif body.kind == "rongque":
            assert body.rongque is not None
            files = await files_of(session, rows)
            written.promise = await decisions.accept_with_promise(
                session, journal, ctx, application, item, rows, files, body.rongque, now, actor
            )
        elif body.kind == "return":
            decisions.return_missing(journal, application, rows, body.also_missing, body.reason, now, actor)
        else:
            assert body.reason is not None
            decisions.refuse(journal, application, body.reason, body.appeal_rights, now, actor)
        await journal.write(session)
    return written


async def supply(
    session: AsyncSession,
    ctx: Context,
    identity: Identity,
    application_id: str,
    body: MaterialsSupplied,
    now: datetime,
) -> Written:
    """Materials handed in later: before the window decides, or the 容缺 ones by their deadline."""
    async with session.begin():
        application = await visible_application(session, identity, application_id, lock=True)
        if identity.kind not in ("citizen", "operator") and not (
            identity.kind == "staff" and identity.window
        ):
            raise forbidden("只有申请人或窗口可以补交材料 (the applicant or a window)")
        promise = await session.get(RongquePromise, application.id, with_for_update=True)
        open_promise = promise is not None and promise.status == "open" and application.status in IN_PROGRESS
        if application.status != "submitted" and not open_promise:
            raise conflict(
                "application_state",
                f"申请状态为 {application.status}，无需补交材料 (nothing is awaited)",
                "status",
                "submitted_or_rongque_open",
            )
        if promise is not None and open_promise and promise.deadline_date < china_date(now):
            raise conflict(
                "rongque_deadline_passed", "容缺补交期限已过 (deadline passed)", "materials", "in_time"
            )
        rows = materials_of(application)
        awaited = (DEFERRED,) if open_promise else (MISSING, OPTIONAL)
        by_name = {r.name: r for r in rows if r.status in awaited}
        await check_files(session, identity, body.materials, "materials")
        for n, given in enumerate(body.materials):
            row = by_name.get(given.name)
            if row is None:
                raise invalid(
                    "not_awaited", f"“{given.name}”不是待补材料", f"materials.{n}.name", "awaited_material"
                )
            row.file_id, row.evidence_ref, row.supplied_at = given.file_id, given.evidence_ref, now
            row.status = SUPPLIED if open_promise else FILE if given.file_id else DATASHARE
        keep(application, rows)
        if open_promise and promise is not None and not any(r.status == DEFERRED for r in rows):
            promise.status, promise.closed_at = "fulfilled", now
            journal = Journal()
            journal.note(
                application.id, "supplied", now, identity.client_id, detail={"materials": promise.materials}
            )
            supplied = [r for r in rows if r.name in promise.materials]
            refs = events.material_refs(supplied, await files_of(session, rows))
            journal.publish("intake.rongque.fulfilled", application, events.fulfilled(application, refs, now))
            await journal.write(session)
    return Written(application, rows, promise)
