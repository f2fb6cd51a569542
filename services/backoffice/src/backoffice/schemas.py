"""Back-office API schemas of tasks, sub-tasks, decisions and the audit trail."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Free text that a database stores safely: no control characters but line breaks and tabs.
_PLAIN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
Text = Annotated[str, Field(min_length=2, max_length=1000, pattern=_PLAIN)]
ShortText = Annotated[str, Field(min_length=1, max_length=100, pattern=_PLAIN)]
DepartmentCode = Annotated[str, Field(pattern=r"^[a-z0-9-]{2,40}$")]
ClientId = Annotated[str, Field(pattern=r"^[A-Za-z0-9._:@-]{1,100}$")]
Id = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]
WorklistStatus = Literal["open", "received", "suspended", "decided", "terminated", "returned"]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StepView(BaseModel):
    name: str
    days: int
    counts_toward_limit: bool


class TaskPublic(BaseModel):
    """A row of the worklist: what an officer needs to pick the next case."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    application_id: str
    case_number: str
    item_id: str
    item_version: int
    item_name: str
    handling_type: str
    department_code: str
    status: str = Field(
        description="received, suspended (clock stopped), decided, terminated (补正 not supplied in time), "
        "returned (to intake)"
    )
    assignee: str | None
    received_at: datetime
    accepted_date: date
    limit_days: int
    limit_unit: str
    suspended_days: int
    extended_days: int
    deadline_date: date | None
    decision: str | None


class SubtaskPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    task_id: str
    department_code: str
    status: str = Field(description="open, completed, or cancelled (the case ended without a decision)")
    due_date: date
    conclusion: str | None
    opinion: str | None
    completed_at: datetime | None
    completed_by: str | None


class SuspensionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str = Field(description="buzheng (补正) or special_step (特殊环节)")
    reason: str
    materials: list[str]
    step_name: str | None
    due_date: date | None
    started_date: date
    started_by: str
    ended_date: date | None
    ended_by: str | None
    days: int | None = Field(description="Days the deadline moved, in the limit's unit")


class TaskDetail(TaskPublic):
    """One task with its applicant, process steps, 协办 sub-tasks, suspensions and result."""

    applicant_kind: str
    applicant_id: str
    applicant_name: str
    legal_limit_days: int | None
    legal_limit_unit: str | None
    steps: list[StepView]
    result_name: str | None
    certificate_type: str | None
    certificate_number: str | None
    valid_until: date | None
    decision_reason: str | None
    appeal_rights: str | None
    decided_at: datetime | None
    decided_by: str | None
    days_used: int | None
    on_time: bool | None
    subtasks: list[SubtaskPublic]
    suspensions: list[SuspensionPublic]


class TaskPage(BaseModel):
    tasks: list[TaskPublic]
    total: int = Field(description="Matching tasks, counted up to 1,000")
    total_exact: bool = Field(description="False: more than `total` match (shown as 1000+)")
    offset: int
    limit: int


class SubtaskPage(BaseModel):
    subtasks: list[SubtaskPublic]
    total: int


class ReassignRequest(Request):
    assignee: ClientId = Field(description="The officer (client id) in the same department")
    reason: Text


class TransferRequest(Request):
    to_department: DepartmentCode | None = Field(
        default=None, description="Omit to return the case to intake for routing (分办错误)"
    )
    reason: Text


class ApproveRequest(Request):
    certificate_number: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9-]{4,60}$",
        description="When the department's own system numbered the certificate; generated otherwise",
    )
    valid_until: date | None = Field(default=None, description="有效期至; none for a certificate without end")
    comment: Text | None = None


class RejectRequest(Request):
    reason: Text = Field(description="不予许可的理由")
    appeal_rights: Text | None = Field(default=None, description="Defaults to the 复议/诉讼 notice")


class BuzhengRequest(Request):
    """补正: what the applicant must supply and by when; the clock stops until it arrives."""

    materials: list[Text] = Field(min_length=1, max_length=30)
    reason: Text
    due_date: date


class SpecialStepRequest(Request):
    step_name: ShortText = Field(description="A step of the item that does not count (公示, 专家评审, …)")
    reason: Text


class ResumeRequest(Request):
    note: Text | None = Field(default=None, description="e.g. 补正材料已收到")


class ExtendRequest(Request):
    days: int = Field(ge=1, le=365, description="In the limit's unit; within the legal limit")
    reason: Text


class SubtaskComplete(Request):
    conclusion: Literal["agree", "disagree"]
    opinion: Text


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    subject_kind: str
    subject_id: str
    action: str
    actor: str
    actor_kind: str
    department_code: str | None
    at: datetime
    reason: str | None
    details: dict[str, Any]
