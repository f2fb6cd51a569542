"""HTTP routes of applications and bundles: submit, read, list, the window's decision, late materials."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Response, status
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import IntegrityError

from intake.applications import service
from intake.applications.access import may_see
from intake.applications.context import ContextDep
from intake.applications.files import file_content
from intake.applications.materials import materials_of
from intake.applications.models import Bundle, RongquePromise
from intake.applications.notices import render_notice
from intake.applications.progress import listed
from intake.applications.schemas import (
    HEX_ID,
    ApplicationCreate,
    BundleCreate,
    DecisionCreate,
    MaterialsSupplied,
)
from intake.applications.submission import Written
from intake.applications.views import (
    ApplicationPublic,
    ApplicationSummary,
    BundlePublic,
    application_view,
    bundle_view,
)
from intake.hall.clock import NowDep
from intake.hall.rules import conflict
from servicekit.auth import requires
from servicekit.deps import SessionDep
from servicekit.identity import Identity
from servicekit.problems import not_found

router = APIRouter(tags=["applications"])
Applying = Annotated[Identity, Depends(requires("intake:apply"))]
Reading = Annotated[Identity, Depends(requires("intake:read"))]
ApplicationPath = Annotated[str, Path(max_length=40)]
IdempotencyKey = Annotated[str | None, Header(max_length=100, description="Repeat a request safely")]
KEY_IN_USE = (
    "idempotency_key_reused",
    "幂等键已被使用 (key in use)",
    "Idempotency-Key",
    "one_request_per_key",
)


@asynccontextmanager
async def key_guard() -> AsyncIterator[None]:
    """A concurrent request with the same key committed first: answer as the key check would have."""
    try:
        yield
    except IntegrityError as exc:
        if "idempotency_key" not in str(exc.orig):
            raise
        raise conflict(*KEY_IN_USE) from exc


Status = Literal[
    "submitted", "accepted", "processing", "suspended", "returned", "refused", "terminated",
    "ready", "rejected", "dispatched", "delivery_failed", "delivered",
]  # fmt: skip


def _view(written: Written) -> ApplicationPublic:
    return application_view(written.application, written.materials, written.promise)


@router.post("/applications", status_code=status.HTTP_201_CREATED, response_model=ApplicationPublic)
async def submit_application(
    body: ApplicationCreate,
    session: SessionDep,
    ctx: ContextDep,
    response: Response,
    identity: Applying,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> ApplicationPublic:
    """无差别受理: any item, at a window (for anyone, linked to the ticket served) or online (for oneself).

    Complete: accepted (受理) and routed, or for a 即办件 at a window completed at once. With
    `rongque`: 容缺受理 of the missing non-key materials. Otherwise online: returned with every
    missing material (一次性告知); at a window: `submitted`, waiting for the window's decision.
    The same Idempotency-Key with the same body returns the first result (200).
    """
    async with key_guard():
        written, created = await service.submit_application(
            session, ctx, identity, body, idempotency_key, now
        )
    if not created:
        response.status_code = status.HTTP_200_OK
    return _view(written)


@router.get("/applications", response_model=list[ApplicationSummary])
async def list_applications(
    session: SessionDep,
    identity: Reading,
    application_status: Annotated[Status | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100000)] = 0,
) -> list[ApplicationSummary]:
    """我的办件 for a citizen; a department's own; everything for windows and operators. Newest first."""
    return await listed(session, identity, application_status, limit, offset)


@router.get("/applications/{application_id}", response_model=ApplicationPublic)
async def get_application(
    application_id: ApplicationPath, session: SessionDep, identity: Reading
) -> ApplicationPublic:
    application = await service.visible_application(session, identity, application_id)
    rows = materials_of(application)
    return application_view(application, rows, await session.get(RongquePromise, application.id))


@router.post("/applications/{application_id}/decision", response_model=ApplicationPublic)
async def decide(
    application_id: ApplicationPath,
    body: DecisionCreate,
    session: SessionDep,
    ctx: ContextDep,
    identity: Applying,
    now: NowDep,
) -> ApplicationPublic:
    """The window's intake decision on a `submitted` application: accept, rongque, return or refuse."""
    return _view(await service.decide(session, ctx, identity, application_id, body, now))


@router.post("/applications/{application_id}/materials", response_model=ApplicationPublic)
async def supply_materials(
    application_id: ApplicationPath,
    body: MaterialsSupplied,
    session: SessionDep,
    ctx: ContextDep,
    identity: Applying,
    now: NowDep,
) -> ApplicationPublic:
    """Hand in materials later: before the decision, or the promised 容缺 ones by their deadline."""
    return _view(await service.supply(session, ctx, identity, application_id, body, now))


@router.get("/applications/{application_id}/notice", response_class=HTMLResponse)
async def notice(application_id: ApplicationPath, session: SessionDep, identity: Reading) -> HTMLResponse:
    """The printable notice of the intake decision (A4, print CSS)."""
    application = await service.visible_application(session, identity, application_id)
    return HTMLResponse(await render_notice(session, application))


@router.get(
    "/applications/{application_id}/files/{file_id}",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}}},
)
async def download_file(
    application_id: ApplicationPath,
    file_id: Annotated[str, Path(pattern=HEX_ID)],
    session: SessionDep,
    ctx: ContextDep,
    identity: Reading,
) -> Response:
    """A material file of an application, for whoever may see the application (the deciding department)."""
    application = await service.visible_application(session, identity, application_id)
    rows = materials_of(application)
    stored = (await service.files_of(session, rows)).get(file_id)
    if stored is None:
        raise not_found("材料文件 file", file_id)
    content = await file_content(stored, session, ctx.options.files_dir)
    headers = {
        "Content-Disposition": f'attachment; filename="{stored.id}"',
        "X-Content-Type-Options": "nosniff",
    }
    return Response(content, media_type=stored.content_type, headers=headers)


@router.post("/bundles", status_code=status.HTTP_201_CREATED, response_model=BundlePublic)
async def submit_bundle(
    body: BundleCreate,
    session: SessionDep,
    ctx: ContextDep,
    response: Response,
    identity: Applying,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> BundlePublic:
    """一件事: several items at once; each its own application and case number, tracked together."""
    async with key_guard():
        (bundle, members), created = await service.submit_bundle(
            session, ctx, identity, body, idempotency_key, now
        )
    if not created:
        response.status_code = status.HTTP_200_OK
    return bundle_view(bundle, [_view(m) for m in members])


@router.get("/bundles/{bundle_id}", response_model=BundlePublic)
async def get_bundle(
    bundle_id: Annotated[str, Path(max_length=40)], session: SessionDep, identity: Reading
) -> BundlePublic:
    bundle = await session.get(Bundle, bundle_id)
    members = [] if bundle is None else await service.bundle_members(session, bundle.id)
    visible = [m for m in members if may_see(identity, m)]
    if bundle is None or not visible:
        raise not_found("一件事 bundle", bundle_id)
    views = [application_view(m, materials_of(m)) for m in visible]
    return bundle_view(bundle, views)
