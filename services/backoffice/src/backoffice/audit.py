"""The audit trail: every step with its actor, time and reason, append-only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.models import AuditEntry, Task
from servicekit.identity import Identity

# The actor of steps nobody took by hand: the consumer of intake's events, the supervision sweep.
SYSTEM = Identity(kind="system", client_id="backoffice")


def record(
    session: AsyncSession,
    *,
    subject_kind: str,
    subject_id: str,
    action: str,
    actor: Identity,
    at: datetime,
    application_id: str | None,
    department_code: str | None,
    reason: str | None = None,
    **details: Any,
) -> None:
    session.add(
        AuditEntry(
            application_id=application_id,
            subject_kind=subject_kind,
            subject_id=subject_id,
            action=action,
            actor=actor.client_id,
            actor_kind=actor.kind,
            department_code=department_code,
            at=at,
            reason=reason,
            details={k: v.isoformat() if isinstance(v, date) else v for k, v in details.items()},
        )
    )


def record_task(
    session: AsyncSession,
    task: Task,
    *,
    action: str,
    actor: Identity,
    at: datetime,
    reason: str | None = None,
    **details: Any,
) -> None:
    """`record` for a step on a task: the subject, case and department come from the task."""
    record(
        session,
        subject_kind="task",
        subject_id=task.id,
        action=action,
        actor=actor,
        at=at,
        application_id=task.application_id,
        department_code=task.department_code,
        reason=reason,
        **details,
    )
