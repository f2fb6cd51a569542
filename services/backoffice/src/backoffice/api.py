"""Back-office HTTP routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from backoffice import service
from backoffice.schemas import TaskPage, TaskPublic
from servicekit.auth import requires
from servicekit.deps import SessionDep
from servicekit.identity import Identity

router = APIRouter(tags=["backoffice"])
Reader = Annotated[Identity, Depends(requires("backoffice:read"))]


@router.get("/tasks", response_model=TaskPage, summary="A department's worklist, earliest deadline first")
async def worklist(
    session: SessionDep,
    identity: Reader,
    department_code: Annotated[str, Query(pattern=r"^[a-z0-9-]{2,40}$")],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TaskPage:
    rows, total = await service.worklist(session, identity, department_code, limit)
    return TaskPage(tasks=[TaskPublic.model_validate(r) for r in rows], total=total)


@router.get("/applications/{application_id}/task", response_model=TaskPublic)
async def task_for_application(
    application_id: Annotated[str, Path(max_length=40)], session: SessionDep, identity: Reader
) -> TaskPublic:
    return TaskPublic.model_validate(await service.task_for_application(session, identity, application_id))
