"""Back-office HTTP routes of supervision (督查): ratings, follow-ups, complaints, statistics, the sweep."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, status

from backoffice import complaints, followups, ratings, stats, supervision
from backoffice.api import Decider, Department, Now, Reader
from backoffice.deadlines import china_date
from backoffice.problems import invalid
from backoffice.supervision_models import FollowUp, Rating
from backoffice.supervision_schemas import (
    LEVELS,
    ComplaintAnswer,
    ComplaintCreate,
    ComplaintPublic,
    FollowUpNote,
    FollowUpPublic,
    FollowUpRatingCreate,
    RatingCreate,
    RatingPublic,
    Statistics,
    SweepResult,
)
from servicekit.auth import requires
from servicekit.deps import SessionDep
from servicekit.identity import Identity

router = APIRouter(tags=["backoffice"])
Rater = Annotated[Identity, Depends(requires("rating:write"))]
Complainant = Annotated[Identity, Depends(requires("complaint:write"))]
Id = Annotated[str, Path(max_length=40)]
Limit = Annotated[int, Query(ge=1, le=200)]
MAX_STATISTICS_DAYS = 3 * 366


def rating_view(rating: Rating, followup: FollowUp | None = None) -> RatingPublic:
    return RatingPublic(
        id=rating.id,
        application_id=rating.application_id,
        department_code=rating.department_code,
        item_id=rating.item_id,
        stage=rating.stage,
        level=LEVELS[rating.score],
        score=rating.score,
        tags=rating.tags,
        comment=rating.comment,
        follow_up_of=rating.follow_up_of or None,
        rated_at=rating.rated_at,
        followup_id=followup.id if followup else None,
    )


@router.post(
    "/applications/{application_id}/ratings",
    status_code=status.HTTP_201_CREATED,
    response_model=RatingPublic,
    summary="Rate your own case (好差评), after 受理 or after 办结",
)
async def rate_case(
    application_id: Id, body: RatingCreate, session: SessionDep, identity: Rater, now: Now
) -> RatingPublic:
    rating, followup = await ratings.rate(session, identity, application_id, body, now)
    return rating_view(rating, followup)


@router.post(
    "/ratings/{rating_id}/follow-up",
    status_code=status.HTTP_201_CREATED,
    response_model=RatingPublic,
    summary="Add the one follow-up rating (追评)",
)
async def add_follow_up_rating(
    rating_id: Id, body: FollowUpRatingCreate, session: SessionDep, identity: Rater, now: Now
) -> RatingPublic:
    return rating_view(await ratings.add_follow_up(session, identity, rating_id, body, now))


@router.get("/followups", response_model=list[FollowUpPublic], summary="A department's bad-rating follow-ups")
async def followup_list(
    session: SessionDep,
    identity: Reader,
    department_code: Department,
    status: Literal["open", "visited", "rectified"] | None = None,
    limit: Limit = 50,
) -> list[FollowUpPublic]:
    rows = await followups.followup_list(session, identity, department_code, status, limit)
    return [FollowUpPublic.model_validate(r) for r in rows]


@router.post("/followups/{followup_id}/visit", response_model=FollowUpPublic, summary="Record the 回访")
async def visit_followup(
    followup_id: Id, body: FollowUpNote, session: SessionDep, identity: Decider, now: Now
) -> FollowUpPublic:
    return FollowUpPublic.model_validate(
        await followups.visit(session, identity, followup_id, body.note, now)
    )


@router.post("/followups/{followup_id}/rectify", response_model=FollowUpPublic, summary="Record the 整改")
async def rectify_followup(
    followup_id: Id, body: FollowUpNote, session: SessionDep, identity: Decider, now: Now
) -> FollowUpPublic:
    return FollowUpPublic.model_validate(
        await followups.rectify(session, identity, followup_id, body.note, now)
    )


@router.post(
    "/complaints",
    status_code=status.HTTP_201_CREATED,
    response_model=ComplaintPublic,
    summary="File a complaint (投诉, e.g. from the 12345 hotline)",
)
async def file_complaint(
    body: ComplaintCreate, session: SessionDep, identity: Complainant, now: Now
) -> ComplaintPublic:
    return ComplaintPublic.model_validate(await complaints.file(session, identity, body, now))


@router.get("/complaints", response_model=list[ComplaintPublic], summary="Complaints about a department")
async def complaint_list(
    session: SessionDep,
    identity: Reader,
    department_code: Department,
    status: Literal["open", "answered"] | None = None,
    limit: Limit = 50,
) -> list[ComplaintPublic]:
    rows = await complaints.complaint_list(session, identity, department_code, status, limit)
    return [ComplaintPublic.model_validate(r) for r in rows]


@router.post(
    "/complaints/{complaint_id}/answer", response_model=ComplaintPublic, summary="Answer a complaint"
)
async def answer_complaint(
    complaint_id: Id, body: ComplaintAnswer, session: SessionDep, identity: Decider, now: Now
) -> ComplaintPublic:
    return ComplaintPublic.model_validate(
        await complaints.answer(session, identity, complaint_id, body.answer, now)
    )


@router.get("/statistics", response_model=Statistics, summary="Per department and item, with rankings")
async def statistics(
    session: SessionDep,
    identity: Reader,
    now: Now,
    from_date: date | None = None,
    to_date: date | None = None,
    department_code: Annotated[str | None, Query(pattern=r"^[a-z0-9-]{2,40}$")] = None,
) -> Statistics:
    """Aggregates only (no applicant data), so every department sees the whole ranking."""
    today = china_date(now)
    end = to_date or today
    start = from_date or end.replace(month=1, day=1)
    if start > end:
        raise invalid("from_date", "not_after_to_date", "起始日期不能晚于结束日期 (from_date after to_date)")
    if (end - start).days > MAX_STATISTICS_DAYS:
        raise invalid("from_date", "at_most_3_years", "统计区间最长三年 (at most three years)")
    return await stats.statistics(session, start, end, today, department_code)


@router.post(
    "/supervision/sweep",
    response_model=SweepResult,
    dependencies=[Depends(requires("admin"))],
    summary="Run the 督查 sweep now (the worker runs it periodically)",
)
async def run_sweep(request: Request, session: SessionDep, now: Now) -> SweepResult:
    return await supervision.sweep(session, china_date(now), request.app.state.warn_working_days, now)
