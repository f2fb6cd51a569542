"""Events written by the back-office service on `backoffice.tasks` (tasks, decisions, 督查)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from contracts.envelope import EventData


class TaskReceived(EventData):
    """backoffice.task.received: an accepted application became a department task, with its deadline."""

    task_id: str
    application_id: str
    case_number: str
    item_id: str
    item_version: int = Field(ge=1)
    department_code: str = Field(description="Responsible (主办) department or municipal body")
    handling_type: str = Field(description="即办件 / 承诺件 / 联办件 / 上报件")
    assisting_departments: list[str] = Field(default_factory=list, description="协办 of a 联办件")
    limit_days: int = Field(ge=0, description="Promised limit (承诺办结时限)")
    limit_unit: str = Field(description="工作日 or 自然日")
    deadline_date: date
    received_at: datetime


class TaskTransferred(EventData):
    """backoffice.task.transferred: a task moved to another department, or back to intake's routing."""

    task_id: str
    application_id: str
    case_number: str
    from_department: str
    to_department: str | None = Field(description="None: returned to intake to route it again")
    reason: str
    actor: str
    transferred_at: datetime


class TaskSuspended(EventData):
    """backoffice.task.suspended: the clock stopped, for 补正 (correction) or a special step (特殊环节)."""

    task_id: str
    application_id: str
    case_number: str
    department_code: str
    applicant_id: str = Field(description="Whom a 补正 notice goes to")
    kind: str = Field(description="buzheng (补正) or special_step (特殊环节)")
    reason: str
    materials: list[str] = Field(default_factory=list, description="What the applicant must supply")
    step_name: str | None = None
    due_date: date | None = Field(default=None, description="补正 to be supplied by")
    suspended_on: date


class TaskResumed(EventData):
    """backoffice.task.resumed: the clock runs again; the deadline moved by the days suspended."""

    task_id: str
    application_id: str
    case_number: str
    department_code: str
    resumed_on: date
    suspended_days: int = Field(ge=0, description="In the limit's unit (working or calendar days)")
    deadline_date: date


class TaskExtended(EventData):
    """backoffice.task.extended: the deadline was extended within the legal limit (延期), with reason."""

    task_id: str
    application_id: str
    case_number: str
    department_code: str
    days: int = Field(ge=1)
    reason: str
    actor: str
    deadline_date: date


class TaskDecided(EventData):
    """backoffice.task.decided: a department approved or rejected an application (办结), or the case
    ended because the applicant did not supply the 补正 in time (终止办理)."""

    application_id: str
    case_number: str
    department_code: str
    decision: str = Field(description="approved, rejected, or terminated (补正 not supplied by its due date)")
    reason: str | None = Field(default=None, description="Why rejected or terminated")
    certificate_type: str | None = None
    certificate_number: str | None = None
    subject_id: str | None = Field(default=None, description="Holder of the certificate issued")
    valid_until: date | None = None
    decided_at: datetime
    task_id: str | None = None
    item_id: str | None = None
    result_name: str | None = Field(default=None, description="办理结果, e.g. 老年人优待证")
    appeal_rights: str | None = Field(default=None, description="复议/诉讼 rights told with a rejection")
    actor: str | None = Field(default=None, description="The officer or system client that decided")
    on_time: bool | None = None
    days_used: int | None = Field(default=None, description="Net of suspensions, in the limit's unit")


class DeadlineWarned(EventData):
    """backoffice.task.deadline_warned: a task is N working days or less from its deadline (预警)."""

    task_id: str
    application_id: str
    case_number: str
    department_code: str
    assignee: str | None = None
    deadline_date: date
    working_days_left: int = Field(ge=0)
    warned_on: date


class TaskEscalated(EventData):
    """backoffice.task.escalated: a task (or a 协办 sub-task) is overdue; 督查 is told (超期督办)."""

    task_id: str
    application_id: str
    case_number: str
    department_code: str = Field(description="The department that is late")
    role: str = Field(description="lead (主办/sole) or assist (协办 sub-task)")
    deadline_date: date
    working_days_overdue: int = Field(ge=1)
    escalated_to: list[str] = Field(description="department_head, supervision_office")
    escalated_on: date


class SubtaskCompleted(EventData):
    """backoffice.subtask.completed: an assisting (协办) department gave its opinion on a 联办件."""

    subtask_id: str
    task_id: str
    application_id: str
    case_number: str
    department_code: str
    lead_department: str
    conclusion: str = Field(description="agree or disagree")
    remaining: int = Field(ge=0, description="Assisting departments still working")
    completed_at: datetime


class RatingSubmitted(EventData):
    """backoffice.rating.submitted: an applicant rated a case (好差评), or added a 追评."""

    rating_id: str
    application_id: str
    case_number: str
    department_code: str
    item_id: str
    stage: str = Field(description="accepted (after 受理) or completed (after 办结)")
    level: str = Field(description="非常满意 / 满意 / 基本满意 / 不满意 / 非常不满意")
    score: int = Field(ge=1, le=5, description="5 = 非常满意 … 1 = 非常不满意")
    tags: list[str] = Field(default_factory=list)
    bad: bool = Field(description="差评: 不满意 or 非常不满意")
    follow_up_of: str | None = Field(default=None, description="The rating this 追评 adds to")
    rated_at: datetime


class FollowUpOpened(EventData):
    """backoffice.followup.opened: a bad rating needs a 回访 and 整改 by the dates given."""

    followup_id: str
    rating_id: str
    application_id: str
    case_number: str
    department_code: str
    visit_due: date = Field(description="回访 within 1 working day")
    rectify_due: date = Field(description="整改 within 15 working days")
    opened_at: datetime


class FollowUpRectified(EventData):
    """backoffice.followup.rectified: 整改 is done; the applicant may add one 追评."""

    followup_id: str
    rating_id: str
    application_id: str
    case_number: str
    department_code: str
    on_time: bool
    rectified_at: datetime


class FollowUpEscalated(EventData):
    """backoffice.followup.escalated: a 回访 or 整改 is overdue; 督查 is told."""

    followup_id: str
    application_id: str
    case_number: str
    department_code: str
    stage: str = Field(description="visit (回访) or rectify (整改)")
    due_date: date
    escalated_to: list[str]
    escalated_on: date


class ComplaintFiled(EventData):
    """backoffice.complaint.filed: a complaint (投诉, e.g. from the 12345 hotline) became a tracked case."""

    complaint_id: str
    department_code: str
    channel: str
    application_id: str | None = None
    case_number: str | None = None
    due_date: date
    filed_at: datetime


class ComplaintAnswered(EventData):
    """backoffice.complaint.answered: the department answered a complaint (办结)."""

    complaint_id: str
    department_code: str
    on_time: bool
    answered_at: datetime


class ComplaintEscalated(EventData):
    """backoffice.complaint.escalated: a complaint is past its due date; 督查 is told."""

    complaint_id: str
    department_code: str
    due_date: date
    escalated_to: list[str]
    escalated_on: date
