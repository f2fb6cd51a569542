"""Back-office HTTP routes of tasks: worklists, claims, transfers, the clock, decisions, the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from backoffice import decisions, subtasks, suspensions, tasks
from backoffice import worklist as worklists
from backoffice.deadlines import china_date
from backoffice.schemas import (
    ApproveRequest,
    AuditEntryPublic,
    BuzhengRequest,
    ExtendRequest,
    ReassignRequest,
    RejectRequest,
    ResumeRequest,
    SpecialStepRequest,
    SubtaskComplete,
    SubtaskPage,
    SubtaskPublic,
    SuspensionPublic,
    TaskDetail,
    TaskPage,
    TaskPublic,
    TransferRequest,
    WorklistStatus,
)
from servicekit.auth import requires
from servicekit.deps import SessionDep
from servicekit.identity import Identity

router = APIRouter(tags=["backoffice"])
Reader = Annotated[Identity, Depends(requires("backoffice:read"))]
Decider = Annotated[Identity, Depends(requires("backoffice:decide"))]
TaskId = Annotated[str, Path(max_length=40)]
Department = Annotated[str, Query(pattern=r"^[a-z0-9-]{2,40}$")]


def clock(request: Request) -> datetime:
    """The app's clock (tests inject a fixed one): every date a use case needs comes from here."""
    now: Callable[[], datetime] = request.app.state.clock
    return now()


Now = Annotated[datetime, Depends(clock)]


def detail_of(view: tasks.TaskView) -> TaskDetail:
    fields = {name: getattr(view.task, name) for name in TaskDetail.model_fields if hasattr(view.task, name)}
    fields["subtasks"] = [SubtaskPublic.model_validate(s) for s in view.subtasks]
    fields["suspensions"] = [SuspensionPublic.model_validate(s) for s in view.suspensions]
    return TaskDetail.model_validate(fields)


@router.get("/tasks", response_model=TaskPage, summary="A department's worklist, earliest deadline first")
async def worklist(
    session: SessionDep,
    identity: Reader,
    now: Now,
    department_code: Department,
    status: WorklistStatus = "open",
    assignee: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._:@-]{1,100}$")] = None,
    mine: Annotated[bool, Query(description="Only the tasks the caller claimed")] = False,
    unassigned: bool = False,
    item_id: Annotated[str | None, Query(max_length=40)] = None,
    overdue: Annotated[bool, Query(description="Deadline already passed")] = False,
    due_before: Annotated[date | None, Query(description="Deadline on or before")] = None,
    sort: Literal["deadline", "-deadline"] = "deadline",
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TaskPage:
    query = worklists.WorklistQuery(
        department_code=department_code,
        status=status,
        assignee=identity.client_id if mine else assignee,
        unassigned=unassigned,
        item_id=item_id,
        overdue=overdue,
        due_before=due_before,
        descending=sort == "-deadline",
        offset=offset,
        limit=limit,
    )
    page = await worklists.worklist(session, identity, query, china_date(now))
    return TaskPage(
        tasks=[TaskPublic.model_validate(r) for r in page.tasks],
        total=page.total,
        total_exact=page.total_exact,
        offset=offset,
        limit=limit,
    )


@router.get("/tasks/{task_id}", response_model=TaskDetail, summary="One task with sub-tasks and suspensions")
async def get_task(task_id: TaskId, session: SessionDep, identity: Reader) -> TaskDetail:
    return detail_of(await tasks.detail(session, identity, task_id))


@router.get("/tasks/{task_id}/audit", response_model=list[AuditEntryPublic], summary="Every step of the case")
async def task_audit(task_id: TaskId, session: SessionDep, identity: Reader) -> list[AuditEntryPublic]:
    return [AuditEntryPublic.model_validate(e) for e in await tasks.audit_trail(session, identity, task_id)]


@router.get("/applications/{application_id}/task", response_model=TaskPublic)
async def task_for_application(
    application_id: Annotated[str, Path(max_length=40)], session: SessionDep, identity: Reader
) -> TaskPublic:
    return TaskPublic.model_validate(await tasks.task_for_application(session, identity, application_id))


@router.post("/tasks/{task_id}/claim", response_model=TaskPublic, summary="Take a task (认领)")
async def claim_task(task_id: TaskId, session: SessionDep, identity: Decider, now: Now) -> TaskPublic:
    return TaskPublic.model_validate(await tasks.claim(session, identity, task_id, now))


@router.post("/tasks/{task_id}/release", response_model=TaskPublic, summary="Give a claimed task back")
async def release_task(task_id: TaskId, session: SessionDep, identity: Decider, now: Now) -> TaskPublic:
    return TaskPublic.model_validate(await tasks.release(session, identity, task_id, now))


@router.post(
    "/tasks/{task_id}/reassign", response_model=TaskPublic, summary="Another officer of the department"
)
async def reassign_task(
    task_id: TaskId, body: ReassignRequest, session: SessionDep, identity: Decider, now: Now
) -> TaskPublic:
    return TaskPublic.model_validate(await tasks.reassign(session, identity, task_id, body, now))


@router.post(
    "/tasks/{task_id}/transfer", response_model=TaskPublic, summary="To another department, or to intake"
)
async def transfer_task(
    task_id: TaskId, body: TransferRequest, session: SessionDep, identity: Decider, now: Now
) -> TaskPublic:
    return TaskPublic.model_validate(await tasks.transfer(session, identity, task_id, body, now))


@router.post(
    "/tasks/{task_id}/approve", response_model=TaskDetail, summary="Approve and issue the result (办结)"
)
async def approve_task(
    task_id: TaskId, body: ApproveRequest, session: SessionDep, identity: Decider, now: Now
) -> TaskDetail:
    task = await decisions.approve(session, identity, task_id, body, now)
    return detail_of(await tasks.view(session, task))


@router.post(
    "/tasks/{task_id}/reject", response_model=TaskDetail, summary="Reject with reason and appeal rights"
)
async def reject_task(
    task_id: TaskId, body: RejectRequest, session: SessionDep, identity: Decider, now: Now
) -> TaskDetail:
    task = await decisions.reject(session, identity, task_id, body, now)
    return detail_of(await tasks.view(session, task))


@router.post(
    "/tasks/{task_id}/buzheng", response_model=TaskDetail, summary="Request a correction (补正): clock stops"
)
async def request_buzheng(
    task_id: TaskId, body: BuzhengRequest, session: SessionDep, identity: Decider, now: Now
) -> TaskDetail:
    task = await suspensions.request_buzheng(session, identity, task_id, body, now)
    return detail_of(await tasks.view(session, task))


@router.post("/tasks/{task_id}/special-step", response_model=TaskDetail, summary="Start a non-counting step")
async def start_special_step(
    task_id: TaskId, body: SpecialStepRequest, session: SessionDep, identity: Decider, now: Now
) -> TaskDetail:
    task = await suspensions.start_special_step(session, identity, task_id, body, now)
    return detail_of(await tasks.view(session, task))


@router.post(
    "/tasks/{task_id}/resume", response_model=TaskDetail, summary="Restart the clock; the deadline moves"
)
async def resume_task(
    task_id: TaskId, body: ResumeRequest, session: SessionDep, identity: Decider, now: Now
) -> TaskDetail:
    task = await suspensions.resume(session, identity, task_id, body, now)
    return detail_of(await tasks.view(session, task))


@router.post(
    "/tasks/{task_id}/extend", response_model=TaskDetail, summary="Extend within the legal limit (延期)"
)
async def extend_task(
    task_id: TaskId, body: ExtendRequest, session: SessionDep, identity: Decider, now: Now
) -> TaskDetail:
    task = await suspensions.extend(session, identity, task_id, body, now)
    return detail_of(await tasks.view(session, task))


@router.get("/subtasks", response_model=SubtaskPage, summary="An assisting department's 协办 sub-tasks")
async def subtask_list(
    session: SessionDep,
    identity: Reader,
    department_code: Department,
    status: Literal["open", "completed", "cancelled"] | None = "open",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SubtaskPage:
    rows, total = await subtasks.subtask_list(session, identity, department_code, status, limit)
    return SubtaskPage(subtasks=[SubtaskPublic.model_validate(r) for r in rows], total=total)


@router.post("/subtasks/{subtask_id}/complete", response_model=SubtaskPublic, summary="Give the 协办 opinion")
async def complete_subtask(
    subtask_id: Annotated[str, Path(max_length=40)],
    body: SubtaskComplete,
    session: SessionDep,
    identity: Decider,
    now: Now,
) -> SubtaskPublic:
    return SubtaskPublic.model_validate(await subtasks.complete(session, identity, subtask_id, body, now))
