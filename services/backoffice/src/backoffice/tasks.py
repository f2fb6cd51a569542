"""Who works a task: ownership, claim, release, reassignment, transfer; the task view and audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice import audit
from backoffice.events import emit
from backoffice.models import OPEN, AuditEntry, CatalogItem, Subtask, Suspension, Task
from backoffice.problems import conflict, invalid
from backoffice.schemas import ReassignRequest, TransferRequest
from contracts.backoffice import TaskTransferred
from servicekit.auth import forbidden
from servicekit.identity import Identity
from servicekit.problems import not_found


def sees_department(identity: Identity, department_code: str) -> bool:
    """A department (or municipal system) works only its own list; operators see all."""
    return identity.kind == "operator" or identity.department == department_code


def check_department(identity: Identity, department_code: str) -> None:
    if not sees_department(identity, department_code):
        raise forbidden(f"只能查看本部门的任务 (only your department's tasks; you are {identity.department})")


async def load_task(session: AsyncSession, identity: Identity, task_id: str, *, lock: bool = False) -> Task:
    """The task, locked for a state change when asked; another department's answers like a missing one."""
    query = sa.select(Task).where(Task.id == task_id)
    task = await session.scalar(query.with_for_update() if lock else query)
    if task is None or not sees_department(identity, task.department_code):
        raise not_found("任务 task", task_id)
    return task


def require_status(task: Task, *allowed: str) -> None:
    if task.status not in allowed:
        code = "task_finished" if task.status in ("decided", "terminated", "returned") else "invalid_state"
        raise conflict(
            code,
            "status",
            "state",
            f"任务状态为 {task.status}，不能进行此操作 (task is {task.status}; allowed from {', '.join(allowed)})",
        )


def require_actor(task: Task, identity: Identity) -> None:
    """Whoever claimed a task works it; others ask for a reassignment first."""
    if task.assignee is not None and task.assignee != identity.client_id and identity.kind != "operator":
        raise conflict(
            "claimed_by_other",
            "assignee",
            "own_claim",
            f"任务已由 {task.assignee} 认领 (claimed by another officer)",
        )


async def task_for_application(session: AsyncSession, identity: Identity, application_id: str) -> Task:
    task = await session.scalar(sa.select(Task).where(Task.application_id == application_id))
    if task is None or not sees_department(identity, task.department_code):
        raise not_found("任务 task for application", application_id)
    return task


async def claim(session: AsyncSession, identity: Identity, task_id: str, now: datetime) -> Task:
    async with session.begin():
        task = await load_task(session, identity, task_id, lock=True)
        require_status(task, *OPEN)
        if task.assignee == identity.client_id:
            return task  # claiming again changes nothing
        require_actor(task, identity)
        task.assignee, task.claimed_at = identity.client_id, now
        _audit(session, task, "claimed", identity, now)
    return task


async def release(session: AsyncSession, identity: Identity, task_id: str, now: datetime) -> Task:
    async with session.begin():
        task = await load_task(session, identity, task_id, lock=True)
        require_status(task, *OPEN)
        if task.assignee is None:
            raise conflict(
                "not_claimed", "assignee", "claimed", "任务尚未被认领 (nobody has claimed the task)"
            )
        require_actor(task, identity)
        _audit(session, task, "released", identity, now, previous=task.assignee)
        task.assignee, task.claimed_at = None, None
    return task


async def reassign(
    session: AsyncSession, identity: Identity, task_id: str, body: ReassignRequest, now: datetime
) -> Task:
    """Within the department (科室调度): the task stays on its list, another officer works it."""
    async with session.begin():
        task = await load_task(session, identity, task_id, lock=True)
        require_status(task, *OPEN)
        if task.assignee == body.assignee:
            raise conflict("same_assignee", "assignee", "different", "任务已由该人员办理 (already theirs)")
        _audit(
            session, task, "reassigned", identity, now, body.reason, previous=task.assignee, to=body.assignee
        )
        task.assignee, task.claimed_at = body.assignee, now
    return task


async def known_department(session: AsyncSession, code: str) -> bool:
    """A department some published item names, as implementer, deciding body or 协办."""
    named = sa.or_(CatalogItem.department_code == code, CatalogItem.deciding_department == code)
    if await session.scalar(sa.select(sa.literal(1)).where(named).limit(1)) is not None:
        return True
    joint = await session.scalars(sa.select(CatalogItem.joint_departments))
    return any(code in departments for departments in joint)


async def transfer(
    session: AsyncSession, identity: Identity, task_id: str, body: TransferRequest, now: datetime
) -> Task:
    """To the right department, or back to intake's routing (to_department omitted)."""
    async with session.begin():
        task = await load_task(session, identity, task_id, lock=True)
        require_status(task, "received")
        target = body.to_department
        if target == task.department_code:
            raise invalid(
                "to_department", "different_department", "不能移交给本部门 (already this department's)"
            )
        if target is not None and not await known_department(session, target):
            raise invalid("to_department", "known_department", f"未知部门 {target} (no item names it)")
        assisting = await session.scalar(
            sa.select(Subtask.id).where(Subtask.task_id == task.id, Subtask.department_code == target)
        )
        if assisting is not None:
            raise invalid("to_department", "not_assisting", f"{target} 是本件的协办部门 (already assisting)")
        source = task.department_code
        _audit(session, task, "transferred", identity, now, body.reason, to=target)
        if target is None:
            task.status = "returned"
        else:
            task.department_code = target
        task.assignee, task.claimed_at = None, None
        data = TaskTransferred(
            task_id=task.id,
            application_id=task.application_id,
            case_number=task.case_number,
            from_department=source,
            to_department=target,
            reason=body.reason,
            actor=identity.client_id,
            transferred_at=now,
        )
        await emit(session, "backoffice.task.transferred", task.application_id, data)
    return task


@dataclass(frozen=True)
class TaskView:
    task: Task
    subtasks: list[Subtask]
    suspensions: list[Suspension]


async def _with_children(session: AsyncSession, task: Task) -> TaskView:
    subtasks = await session.scalars(
        sa.select(Subtask).where(Subtask.task_id == task.id).order_by(Subtask.id)
    )
    stops = await session.scalars(
        sa.select(Suspension).where(Suspension.task_id == task.id).order_by(Suspension.started_at)
    )
    return TaskView(task, list(subtasks), list(stops))


async def view(session: AsyncSession, task: Task) -> TaskView:
    """The task with its 协办 sub-tasks and suspensions, after a use case committed."""
    async with session.begin():
        return await _with_children(session, task)


async def detail(session: AsyncSession, identity: Identity, task_id: str) -> TaskView:
    async with session.begin():
        return await _with_children(session, await load_task(session, identity, task_id))


async def audit_trail(session: AsyncSession, identity: Identity, task_id: str) -> list[AuditEntry]:
    """Every step of the case: the task's, its sub-tasks', ratings' and follow-ups' (by application)."""
    async with session.begin():
        task = await load_task(session, identity, task_id)
        rows = await session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.application_id == task.application_id)
            .order_by(AuditEntry.seq)
        )
        return list(rows)


def _audit(
    session: AsyncSession,
    task: Task,
    action: str,
    identity: Identity,
    now: datetime,
    reason: str | None = None,
    **details: Any,
) -> None:
    audit.record_task(
        session,
        task,
        action=action,
        actor=identity,
        at=now,
        reason=reason,
        **details,
    )
