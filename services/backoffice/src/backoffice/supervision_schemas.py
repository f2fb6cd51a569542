"""API schemas of supervision (督查): ratings (好差评), follow-ups, complaints, statistics, the sweep."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from backoffice.schemas import DepartmentCode, Id, Request, ShortText, Text

Level = Literal["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
SCORES: dict[str, int] = {"非常满意": 5, "满意": 4, "基本满意": 3, "不满意": 2, "非常不满意": 1}
LEVELS = {score: level for level, score in SCORES.items()}
BAD_SCORE = 2  # 不满意 and 非常不满意 are 差评
GOOD_TAGS = frozenset({"办事便捷", "一次办成", "服务热情", "材料精简", "办理快速", "指引清晰", "网办顺畅"})
BAD_TAGS = frozenset({"多次跑腿", "材料繁琐", "办理超时", "态度不好", "指引不清", "系统难用", "推诿扯皮"})


def tags_for(score: int) -> frozenset[str]:
    """The tags each level offers: praise for the three good levels, problems for the two bad ones."""
    return BAD_TAGS if score <= BAD_SCORE else GOOD_TAGS


class RatingCreate(Request):
    stage: Literal["accepted", "completed"] = Field(description="After 受理, or after 办结")
    level: Level
    tags: list[ShortText] = Field(default_factory=list, max_length=7)
    comment: Text | None = None


class FollowUpRatingCreate(Request):
    """追评: one more rating of the same stage, e.g. after the 整改."""

    level: Level
    tags: list[ShortText] = Field(default_factory=list, max_length=7)
    comment: Text | None = None


class RatingPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    application_id: str
    department_code: str
    item_id: str
    stage: str
    level: Level
    score: int
    tags: list[str]
    comment: str | None
    follow_up_of: str | None
    rated_at: datetime
    followup_id: str | None = Field(default=None, description="The 回访/整改 case a bad rating opened")


class FollowUpPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    rating_id: str
    application_id: str
    case_number: str
    department_code: str
    status: str = Field(description="open → visited (回访) → rectified (整改)")
    opened_at: datetime
    visit_due: date
    rectify_due: date
    visited_at: datetime | None
    visited_by: str | None
    visit_note: str | None
    rectified_at: datetime | None
    rectified_by: str | None
    rectify_note: str | None


class FollowUpNote(Request):
    note: Text


class ComplaintCreate(Request):
    department_code: DepartmentCode | None = Field(
        default=None, description="Required unless application_id names the case complained about"
    )
    channel: Literal["12345", "window", "online", "letter"] = "12345"
    application_id: Id | None = None
    content: Text


class ComplaintPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    department_code: str
    channel: str
    application_id: str | None
    case_number: str | None
    content: str
    status: str = Field(description="open or answered")
    filed_at: datetime
    filed_by: str
    due_date: date
    answer: str | None
    answered_at: datetime | None
    answered_by: str | None


class ComplaintAnswer(Request):
    answer: Text


class SweepResult(BaseModel):
    today: date
    terminated: int = Field(description="Cases ended because the 补正 asked for was not supplied in time")
    warned: int = Field(description="Tasks N working days or less from their deadline (预警)")
    escalated: int = Field(description="Overdue tasks and 协办 sub-tasks escalated")
    followups_escalated: int
    complaints_escalated: int


class Figures(BaseModel):
    received: int = Field(description="Accepted within the period")
    open: int = Field(description="Open now (received or suspended), whenever accepted: the backlog")
    completed: int
    on_time: int
    overdue: int = Field(description="Completed late, plus open past the deadline")
    on_time_rate: float | None = Field(description="on_time / completed")
    average_days_used: float | None = Field(description="Net of suspensions, in the limit's unit")
    average_limit_days: float | None = Field(description="Promised limit of the completed tasks")
    ratings: int
    satisfaction_rate: float | None = Field(description="非常满意 + 满意 + 基本满意 over all ratings")
    bad_rating_rate: float | None = Field(description="不满意 + 非常不满意 over all ratings")


class DepartmentFigures(Figures):
    department_code: str
    rank: int = Field(description="By on-time rate, then satisfaction, then volume")


class ItemFigures(Figures):
    department_code: str
    item_id: str
    item_name: str


class Statistics(BaseModel):
    from_date: date
    to_date: date
    departments: list[DepartmentFigures]
    items: list[ItemFigures]
