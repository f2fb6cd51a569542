"""What the back office reports (`backoffice.tasks`): received, suspended, resumed, decided.

Every handler is idempotent: the inbox stops a redelivered event, and a re-sent fact (the same
decision under a new event id) finds the application past that step and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.backoffice import TaskDecided, TaskReceived, TaskResumed, TaskSuspended
from contracts.envelope import Event
from intake.applications.context import Context, china_date
from intake.applications.history import Journal
from intake.applications.models import Output
from intake.applications.output import hand_over
from intake.models import Application

log = logging.getLogger(__name__)
IN_PROGRESS = ("accepted", "processing", "suspended")
Handler = Callable[[AsyncSession, Event], Awaitable[None]]


async def _application(session: AsyncSession, application_id: str) -> Application | None:
    application = await session.get(Application, application_id, with_for_update=True)
    if application is None:  # not taken in here (e.g. another district's intake): nothing to track
        log.info("back-office event about an application intake does not hold: %s", application_id)
    return application


async def task_received(session: AsyncSession, event: Event) -> None:
    data = TaskReceived.model_validate(event.data)
    application = await _application(session, data.application_id)
    if application is not None and application.status == "accepted":
        journal = Journal()
        journal.move(application, "processing", data.received_at, data.department_code)
        await journal.write(session)


async def task_suspended(session: AsyncSession, event: Event) -> None:
    data = TaskSuspended.model_validate(event.data)
    application = await _application(session, data.application_id)
    if application is not None and application.status in ("accepted", "processing"):
        detail: dict[str, object] = {"kind": data.kind, "materials": data.materials}
        if data.due_date is not None:
            detail["due_date"] = data.due_date.isoformat()
        journal = Journal()
        journal.move(
            application, "suspended", event.time, data.department_code, reason=data.reason, detail=detail
        )
        await journal.write(session)


async def task_resumed(session: AsyncSession, event: Event) -> None:
    data = TaskResumed.model_validate(event.data)
    application = await _application(session, data.application_id)
    if application is not None and application.status == "suspended":
        detail = {"deadline_date": data.deadline_date.isoformat()}
        journal = Journal()
        journal.move(
            application, "processing", event.time, data.department_code, detail=detail, recorded_as="resumed"
        )
        await journal.write(session)


def decided_handler(ctx: Context) -> Handler:
    """The decision makes the result ready (handed over as chosen) or ends the case."""

    async def task_decided(session: AsyncSession, event: Event) -> None:
        data = TaskDecided.model_validate(event.data)
        application = await _application(session, data.application_id)
        if application is None or application.status not in IN_PROGRESS:
            return
        actor, journal = data.actor or data.department_code, Journal()
        application.decision, application.decided_at = data.decision, data.decided_at
        promised = application.promised_date
        on_time = data.on_time
        if on_time is None and promised is not None:
            on_time = china_date(data.decided_at) <= promised
        application.on_time = on_time
        if data.decision != "approved":
            status = "rejected" if data.decision == "rejected" else "terminated"
            rights = {"appeal_rights": data.appeal_rights} if data.appeal_rights else None
            journal.move(application, status, data.decided_at, actor, reason=data.reason, detail=rights)
        else:
            result = {"result_name": data.result_name, "certificate_number": data.certificate_number}
            journal.move(application, "approved", data.decided_at, actor, detail=result)
            output = await session.get(Output, application.id, with_for_update=True)
            if output is None:
                journal.move(application, "ready", data.decided_at, "intake", detail={"method": None})
            else:
                await hand_over(session, journal, ctx, application, output, data.decided_at)
        await journal.write(session)

    return task_decided
