"""Back-office HTTP routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from backoffice import service
from backoffice.schemas import TaskPage, TaskPublic
from servicekit.deps import SessionDep

router = APIRouter(tags=["backoffice"])


@router.get("/tasks", response_model=TaskPage, summary="A department's worklist, earliest deadline first")
async def worklist(
    session: SessionDep,
    department_code: Annotated[str, Query(pattern=r"^[a-z0-9-]{2,40}$")],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TaskPage:
    rows, total = await service.worklist(session, department_code, limit)
    return TaskPage(tasks=[TaskPublic.model_validate(r) for r in rows], total=total)


@router.get("/applications/{application_id}/task", response_model=TaskPublic)
async def task_for_application(application_id: str, session: SessionDep) -> TaskPublic:
    return TaskPublic.model_validate(await service.task_for_application(session, application_id))
