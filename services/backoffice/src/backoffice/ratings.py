"""好差评: applicants rate their own case; a bad rating opens a follow-up (回访, 整改) with deadlines."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from workcalendar import default_calendar

from backoffice import audit
from backoffice.deadlines import RECTIFY_WORKING_DAYS, VISIT_WORKING_DAYS, china_date
from backoffice.events import emit
from backoffice.models import Task
from backoffice.problems import conflict, invalid
from backoffice.supervision_models import FollowUp, Rating
from backoffice.supervision_schemas import BAD_SCORE, SCORES, FollowUpRatingCreate, RatingCreate, tags_for
from contracts.backoffice import FollowUpOpened, RatingSubmitted
from servicekit.auth import forbidden
from servicekit.identity import Identity
from servicekit.problems import not_found


def _applicant_only(identity: Identity) -> None:
    if identity.kind != "citizen" or identity.citizen_id is None:
        raise forbidden("只有申请人本人可以评价 (only the applicant rates their case)")


async def _own_task(session: AsyncSession, identity: Identity, application_id: str) -> Task:
    task = await session.scalar(sa.select(Task).where(Task.application_id == application_id))
    # Someone else's case answers like a missing one: application ids cannot be probed.
    if task is None or task.applicant_id != identity.citizen_id:
        raise not_found("办件 application", application_id)
    return task


def _check_tags(score: int, tags: list[str]) -> None:
    unknown = sorted(set(tags) - tags_for(score))
    if unknown:
        offered = "、".join(sorted(tags_for(score)))
        raise invalid(
            "tags", "tags_of_level", f"标签 {'、'.join(unknown)} 不属于该评价等级 (offered: {offered})"
        )


async def _add(
    session: AsyncSession, identity: Identity, task: Task, rating: Rating, now: datetime
) -> FollowUp | None:
    session.add(rating)
    try:
        await session.flush()
    except sa.exc.IntegrityError:
        raise conflict(
            "already_rated", "stage", "rate_once", "已评价过 (one rating per stage, and one 追评 per rating)"
        ) from None
    audit.record(
        session,
        subject_kind="rating",
        subject_id=rating.id,
        action="follow_up_rated" if rating.follow_up_of else "rated",
        actor=identity,
        at=now,
        application_id=task.application_id,
        department_code=task.department_code,
        reason=rating.comment,
        stage=rating.stage,
        score=rating.score,
        tags=rating.tags,
    )
    data = RatingSubmitted(
        rating_id=rating.id,
        application_id=task.application_id,
        case_number=task.case_number,
        department_code=task.department_code,
        item_id=task.item_id,
        stage=rating.stage,
        level=next(level for level, score in SCORES.items() if score == rating.score),
        score=rating.score,
        tags=rating.tags,
        bad=rating.score <= BAD_SCORE,
        follow_up_of=rating.follow_up_of or None,
        rated_at=now,
    )
    await emit(session, "backoffice.rating.submitted", task.application_id, data)
    # One follow-up per case stage: a bad 追评 after the 整改 goes to the statistics, not a new round.
    if rating.score > BAD_SCORE or rating.follow_up_of:
        return None
    return await _open_followup(session, task, rating, now)


async def _open_followup(session: AsyncSession, task: Task, rating: Rating, now: datetime) -> FollowUp:
    calendar = default_calendar()
    followup = FollowUp(
        id=uuid.uuid4().hex,
        rating_id=rating.id,
        application_id=task.application_id,
        case_number=task.case_number,
        department_code=task.department_code,
        status="open",
        opened_at=now,
        visit_due=calendar.add_working_days(rating.rated_date, VISIT_WORKING_DAYS),
        rectify_due=calendar.add_working_days(rating.rated_date, RECTIFY_WORKING_DAYS),
    )
    session.add(followup)
    data = FollowUpOpened(
        followup_id=followup.id,
        rating_id=rating.id,
        application_id=task.application_id,
        case_number=task.case_number,
        department_code=task.department_code,
        visit_due=followup.visit_due,
        rectify_due=followup.rectify_due,
        opened_at=now,
    )
    await emit(session, "backoffice.followup.opened", task.application_id, data)
    return followup


async def rate(
    session: AsyncSession, identity: Identity, application_id: str, body: RatingCreate, now: datetime
) -> tuple[Rating, FollowUp | None]:
    _applicant_only(identity)
    score = SCORES[body.level]
    _check_tags(score, body.tags)
    async with session.begin():
        task = await _own_task(session, identity, application_id)
        if body.stage == "completed" and task.status != "decided":
            raise conflict(
                "not_completed",
                "stage",
                "after_completion",
                "办件尚未办结，暂不能评价办结环节 (not decided yet)",
            )
        rating = Rating(
            id=uuid.uuid4().hex,
            application_id=task.application_id,
            task_id=task.id,
            department_code=task.department_code,
            item_id=task.item_id,
            stage=body.stage,
            follow_up_of="",
            score=score,
            tags=list(dict.fromkeys(body.tags)),
            comment=body.comment,
            rated_at=now,
            rated_date=china_date(now),
        )
        return rating, await _add(session, identity, task, rating, now)


async def add_follow_up(
    session: AsyncSession, identity: Identity, rating_id: str, body: FollowUpRatingCreate, now: datetime
) -> Rating:
    """追评: once per rating, by the same applicant, about the same stage."""
    _applicant_only(identity)
    score = SCORES[body.level]
    _check_tags(score, body.tags)
    async with session.begin():
        first = await session.get(Rating, rating_id)
        if first is None:
            raise not_found("评价 rating", rating_id)
        task = await _own_task(session, identity, first.application_id)
        if first.follow_up_of:
            raise conflict(
                "follow_up_of_follow_up", "rating_id", "one_follow_up", "追评不能再追评 (rate the first one)"
            )
        rating = Rating(
            id=uuid.uuid4().hex,
            application_id=first.application_id,
            task_id=first.task_id,
            department_code=first.department_code,
            item_id=first.item_id,
            stage=first.stage,
            follow_up_of=first.id,
            score=score,
            tags=list(dict.fromkeys(body.tags)),
            comment=body.comment,
            rated_at=now,
            rated_date=china_date(now),
        )
        await _add(session, identity, task, rating, now)
    return rating
