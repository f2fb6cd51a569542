"""容缺 deadlines: a warning a working day before, and automatic termination once the deadline passed.

`sweep` is run periodically by the intake worker (and beside the embedded platform's workers);
each promise is warned once and closed once, so running it again, or from two places, repeats nothing.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.intake import ApplicationTerminated, RongqueDeadlineWarned
from intake.applications.context import Context, china_date
from intake.applications.history import Journal
from intake.applications.models import RongquePromise
from intake.models import Application

IN_PROGRESS = ("accepted", "processing", "suspended")
SWEEPER = "intake-rongque-sweep"


class SweepResult(BaseModel):
    warned: int = 0
    terminated: int = 0


async def _open_promises(session: AsyncSession, condition: sa.ColumnElement[bool]) -> list[RongquePromise]:
    query = sa.select(RongquePromise).where(RongquePromise.status == "open", condition)
    # Two sweepers never take the same promise (PostgreSQL; SQLite has one writer anyway).
    return list(await session.scalars(query.with_for_update(skip_locked=True).limit(500)))


async def sweep(session: AsyncSession, ctx: Context, now: datetime) -> SweepResult:
    today = china_date(now)
    result, journal = SweepResult(), Journal()
    async with session.begin():
        for promise in await _open_promises(session, RongquePromise.deadline_date < today):
            application = await session.get(Application, promise.application_id, with_for_update=True)
            assert application is not None
            promise.closed_at = now
            if application.status not in IN_PROGRESS:  # decided or ended meanwhile: nothing to stop
                promise.status = "closed"
                continue
            promise.status = "terminated"
            reason = (
                f"容缺材料未在{promise.deadline_date:%Y年%-m月%-d日}前补齐：{'、'.join(promise.materials)}"
            )
            journal.move(application, "terminated", now, SWEEPER, reason=reason)
            terminated = ApplicationTerminated(
                application_id=application.id,
                case_number=application.case_number,
                department_code=application.department_code,
                applicant_id=application.applicant_id,
                materials=list(promise.materials),
                due_date=promise.deadline_date,
                terminated_at=now,
            )
            journal.publish("intake.application.terminated", application, terminated)
            result.terminated += 1
        tomorrow = ctx.calendar.add_working_days(today, 1)
        due_soon = sa.and_(
            RongquePromise.warned_on.is_(None),
            RongquePromise.deadline_date >= today,
            RongquePromise.deadline_date <= tomorrow,
        )
        for promise in await _open_promises(session, due_soon):
            application = await session.get(Application, promise.application_id)
            assert application is not None
            promise.warned_on = today
            warned = RongqueDeadlineWarned(
                application_id=application.id,
                case_number=application.case_number,
                item_id=application.item_id,
                department_code=application.department_code,
                applicant_id=application.applicant_id,
                materials=list(promise.materials),
                due_date=promise.deadline_date,
                warned_on=today,
            )
            journal.publish("intake.rongque.deadline_warned", application, warned)
            result.warned += 1
        await journal.write(session)
    return result
