"""Follow-ups of bad ratings: the department's 回访 (visit) and 整改 (rectification), each on time."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice import audit
from backoffice.deadlines import china_date
from backoffice.events import emit
from backoffice.problems import conflict
from backoffice.supervision_models import FollowUp
from backoffice.tasks import check_department, sees_department
from contracts.backoffice import FollowUpRectified
from servicekit.identity import Identity
from servicekit.problems import not_found


async def followup_list(
    session: AsyncSession, identity: Identity, department_code: str, status: str | None, limit: int
) -> list[FollowUp]:
    check_department(identity, department_code)
    where = [FollowUp.department_code == department_code]
    if status is not None:
        where.append(FollowUp.status == status)
    async with session.begin():
        query = (
            sa.select(FollowUp).where(*where).order_by(FollowUp.rectify_due, FollowUp.opened_at).limit(limit)
        )
        return list(await session.scalars(query))


async def _load(session: AsyncSession, identity: Identity, followup_id: str) -> FollowUp:
    followup = await session.scalar(sa.select(FollowUp).where(FollowUp.id == followup_id).with_for_update())
    if followup is None or not sees_department(identity, followup.department_code):
        raise not_found("回访整改 follow-up", followup_id)
    return followup


def _audit(
    session: AsyncSession, followup: FollowUp, action: str, identity: Identity, now: datetime, note: str
) -> None:
    audit.record(
        session,
        subject_kind="followup",
        subject_id=followup.id,
        action=action,
        actor=identity,
        at=now,
        application_id=followup.application_id,
        department_code=followup.department_code,
        reason=note,
    )


async def visit(
    session: AsyncSession, identity: Identity, followup_id: str, note: str, now: datetime
) -> FollowUp:
    """回访: the department called the applicant back and wrote down what they said."""
    async with session.begin():
        followup = await _load(session, identity, followup_id)
        if followup.status != "open":
            raise conflict(
                "already_visited", "status", "visit_once", "已回访 (the visit is already recorded)"
            )
        followup.status, followup.visit_note = "visited", note
        followup.visited_at, followup.visited_date, followup.visited_by = (
            now,
            china_date(now),
            identity.client_id,
        )
        _audit(session, followup, "visited", identity, now, note)
    return followup


async def rectify(
    session: AsyncSession, identity: Identity, followup_id: str, note: str, now: datetime
) -> FollowUp:
    """整改: what was put right; the applicant is invited to a 追评."""
    async with session.begin():
        followup = await _load(session, identity, followup_id)
        if followup.status == "open":
            raise conflict(
                "visit_first", "status", "visit_before_rectify", "请先回访 (record the visit first)"
            )
        if followup.status != "visited":
            raise conflict("already_rectified", "status", "rectify_once", "已整改 (already rectified)")
        today = china_date(now)
        followup.status, followup.rectify_note = "rectified", note
        followup.rectified_at, followup.rectified_date, followup.rectified_by = now, today, identity.client_id
        _audit(session, followup, "rectified", identity, now, note)
        data = FollowUpRectified(
            followup_id=followup.id,
            rating_id=followup.rating_id,
            application_id=followup.application_id,
            case_number=followup.case_number,
            department_code=followup.department_code,
            on_time=today <= followup.rectify_due,
            rectified_at=now,
        )
        await emit(session, "backoffice.followup.rectified", followup.application_id, data)
    return followup
