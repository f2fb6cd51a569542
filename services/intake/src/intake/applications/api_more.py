"""HTTP routes around applications: pre-check, uploads, progress, output window, courier, figures, 容缺 sweep."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, UploadFile, status

from intake.applications import output, service
from intake.applications.context import ContextDep
from intake.applications.files import store_upload
from intake.applications.history import Journal
from intake.applications.precheck import precheck
from intake.applications.progress import lookup
from intake.applications.rongque import SweepResult, sweep
from intake.applications.schemas import (
    CourierEvent,
    DeliveryChoice,
    PickupCheck,
    PrecheckCreate,
    ProgressQuery,
)
from intake.applications.stats import Statistics, statistics
from intake.applications.views import FilePublic, OutputPublic, PrecheckPublic, ProgressPublic
from intake.hall.clock import NowDep
from intake.hall.rules import check_operator
from servicekit.auth import requires
from servicekit.deps import SessionDep
from servicekit.identity import Identity
from servicekit.problems import PROBLEM_JSON

from .api import ApplicationPath, Applying, Reading

router = APIRouter(tags=["applications"])
_PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"description": "文件过大 file_too_large", "content": _PROBLEM},
    415: {"description": "文件类型不支持 file_type_not_allowed", "content": _PROBLEM},
}
PICKUP_ERRORS: dict[int | str, dict[str, Any]] = {
    423: {"description": "取件码错误次数过多 pickup_locked", "content": _PROBLEM}
}
Operating = Annotated[Identity, Depends(requires("hall:operate"))]
Courier = Annotated[Identity, Depends(requires("intake:courier"))]
Admin = Annotated[Identity, Depends(requires("admin"))]


@router.post("/prechecks", status_code=status.HTTP_201_CREATED, response_model=PrecheckPublic)
async def create_precheck(
    body: PrecheckCreate, session: SessionDep, ctx: ContextDep, identity: Applying, now: NowDep
) -> PrecheckPublic:
    """材料预审 before any trip: per material, fetched by datashare (一证通办), provided, missing (with the
    sample) or 容缺-able. Datashare unreachable: those materials say so (bring them), never a 5xx.
    Cite the answer's `id` as `precheck_id` when applying (valid for the hours given)."""
    return await precheck(session, ctx, identity, body, now)


@router.post(
    "/files", status_code=status.HTTP_201_CREATED, response_model=FilePublic, responses=UPLOAD_ERRORS
)
async def upload_file(
    file: Annotated[UploadFile, File(description="PDF, JPEG or PNG, at most INTAKE_MAX_FILE_BYTES")],
    session: SessionDep,
    ctx: ContextDep,
    identity: Applying,
    now: NowDep,
) -> FilePublic:
    """Upload a material; name it by `file_id` in an application's materials."""
    stored = await store_upload(
        session, identity, file, ctx.options.max_file_bytes, ctx.options.files_dir, now
    )
    return FilePublic.model_validate(stored)


@router.post("/progress", response_model=ProgressPublic)
async def progress(body: ProgressQuery, session: SessionDep, identity: Reading) -> ProgressPublic:
    """进度查询 by case number and ID number: every status with its time and the expected completion."""
    return await lookup(session, identity, body)


@router.post("/applications/{application_id}/delivery", response_model=OutputPublic)
async def choose_delivery(
    application_id: ApplicationPath,
    body: DeliveryChoice,
    session: SessionDep,
    ctx: ContextDep,
    identity: Applying,
    now: NowDep,
) -> OutputPublic:
    """出件: pickup (a code is sent to the applicant) or courier; a ready result is handed over at once,
    choosing pickup again sends a new code."""
    journal = Journal()
    async with session.begin():
        application = await service.visible_application(session, identity, application_id, lock=True)
        chosen = await output.choose(session, journal, ctx, identity, application, body, now)
        await journal.write(session)
    return OutputPublic.model_validate(chosen)


@router.post("/output/pickups", response_model=OutputPublic, responses=PICKUP_ERRORS)
async def pick_up(
    body: PickupCheck, session: SessionDep, ctx: ContextDep, identity: Operating, now: NowDep
) -> OutputPublic:
    """At the output window: the case number and the pickup code; wrong codes are limited, then locked."""
    return OutputPublic.model_validate(await output.pick_up(session, ctx, identity, body, now))


@router.post("/courier/events", status_code=status.HTTP_204_NO_CONTENT)
async def courier_event(body: CourierEvent, session: SessionDep, identity: Courier, now: NowDep) -> None:
    """The courier's delivery status callback (in transit, delivered, failed) for a tracking number."""
    await output.courier_event(session, body, now, identity.client_id)


@router.get("/statistics", response_model=Statistics)
async def application_statistics(
    session: SessionDep,
    identity: Reading,
    month: Annotated[str, Query(pattern=r"^20\d{2}-(0[1-9]|1[0-2])$", examples=["2026-10"])],
    department_code: Annotated[str | None, Query(max_length=40)] = None,
) -> Statistics:
    """Per department: handled, 即办件, 零次跑 (online, not picked up in person), 一证通办, on time."""
    first = date.fromisoformat(f"{month}-01")
    return await statistics(session, identity, first, department_code)


@router.post("/rongque/sweep", response_model=SweepResult)
async def rongque_sweep(session: SessionDep, ctx: ContextDep, identity: Admin, now: NowDep) -> SweepResult:
    """Run the 容缺 deadline sweep now (the worker runs it periodically)."""
    check_operator(identity)
    return await sweep(session, ctx, now)
