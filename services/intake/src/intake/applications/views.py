"""Response bodies: applications with their materials, bundles, pre-checks, progress, outputs, uploads."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from intake.applications.history import STATUS_TEXT
from intake.applications.materials import Material
from intake.applications.models import Bundle, Output, RongquePromise, StatusChange
from intake.models import Application
from servicekit.masking import mask_id


class MaterialView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    required: bool
    key: bool
    rongque_allowed: bool
    certificate_type: str | None
    status: str = Field(description="identity, file, datashare, missing, deferred (容缺), supplied, optional")
    file_id: str | None
    evidence_ref: str | None
    supplied_at: datetime | None


class ApplicationPublic(BaseModel):
    id: str
    case_number: str
    item_id: str
    item_version: int
    item_name: str | None
    department_code: str
    deciding_department: str | None
    handling_type: str | None
    channel: str
    status: str
    status_text: str
    applicant_kind: str
    applicant_masked: str
    bundle_id: str | None
    rongque: bool
    one_certificate: bool
    instant: bool = Field(description="即办件 completed at the window")
    promised_date: date | None = Field(description="承诺办结日期")
    created_at: datetime
    accepted_at: datetime | None
    decision: str | None
    delivery_method: str | None
    missing: list[str] = Field(description="Still to bring (一次性告知) or, for 容缺, promised")
    rongque_deadline: date | None
    materials: list[MaterialView]


def text(status: str) -> str:
    return STATUS_TEXT.get(status, status)


def application_view(
    application: Application, rows: list[Material], promise: RongquePromise | None = None
) -> ApplicationPublic:
    return ApplicationPublic(
        id=application.id,
        case_number=application.case_number,
        item_id=application.item_id,
        item_version=application.item_version,
        item_name=application.item_name,
        department_code=application.department_code,
        deciding_department=application.deciding_department,
        handling_type=application.handling_type,
        channel=application.channel,
        status=application.status,
        status_text=text(application.status),
        applicant_kind=application.applicant_kind,
        applicant_masked=mask_id(application.applicant_id),
        bundle_id=application.bundle_id,
        rongque=application.rongque,
        one_certificate=application.one_certificate,
        instant=application.instant,
        promised_date=application.promised_date,
        created_at=application.created_at,
        accepted_at=application.accepted_at,
        decision=application.decision,
        delivery_method=application.delivery_method,
        missing=[r.name for r in rows if r.status in ("missing", "deferred")],
        rongque_deadline=promise.deadline_date if promise is not None else None,
        materials=[MaterialView.model_validate(r) for r in rows],
    )


class BundlePublic(BaseModel):
    id: str
    name: str
    status: str = Field(description="The members' common status, or in_progress while they differ")
    created_at: datetime
    applications: list[ApplicationPublic]


def bundle_view(bundle: Bundle, members: list[ApplicationPublic]) -> BundlePublic:
    statuses = {m.status for m in members}
    status = statuses.pop() if len(statuses) == 1 else "in_progress"
    return BundlePublic(
        id=bundle.id, name=bundle.name, status=status, created_at=bundle.created_at, applications=members
    )


class PrecheckMaterial(BaseModel):
    name: str
    required: bool
    key: bool
    certificate_type: str | None
    status: Literal["datashare", "provided", "missing", "rongque", "optional"] = Field(
        description="datashare: fetched (一证通办), provided: ID card or uploaded, missing: bring it, "
        "rongque: may be supplied after 容缺受理, optional"
    )
    reason: str
    message: str
    sample: str | None = Field(description="填写样稿 / guidance for what to bring")
    form: str | None


class PrecheckPublic(BaseModel):
    id: str = Field(description="Cite it as precheck_id when submitting")
    item_id: str
    item_version: int
    item_name: str
    situation_code: str | None
    one_certificate: bool = Field(description="一证通办: only the ID card is needed")
    datashare_available: bool
    to_bring: list[str]
    materials: list[PrecheckMaterial]
    valid_until: datetime


class StepView(BaseModel):
    status: str
    text: str
    at: datetime
    reason: str | None
    detail: dict[str, Any] | None


class ProgressPublic(BaseModel):
    case_number: str
    item_name: str | None
    department_code: str
    deciding_department: str | None
    status: str
    status_text: str
    applicant_masked: str
    accepted_at: datetime | None
    promised_date: date | None = Field(description="Expected completion (承诺办结日期)")
    bundle_id: str | None
    delivery_method: str | None
    tracking_number: str | None
    history: list[StepView]


def progress_view(
    application: Application, steps: list[StatusChange], output: Output | None
) -> ProgressPublic:
    return ProgressPublic(
        case_number=application.case_number,
        item_name=application.item_name,
        department_code=application.department_code,
        deciding_department=application.deciding_department,
        status=application.status,
        status_text=text(application.status),
        applicant_masked=mask_id(application.applicant_id),
        accepted_at=application.accepted_at,
        promised_date=application.promised_date,
        bundle_id=application.bundle_id,
        delivery_method=application.delivery_method,
        tracking_number=output.tracking_number if output is not None else None,
        history=[
            StepView(status=s.status, text=text(s.status), at=s.at, reason=s.reason, detail=s.detail)
            for s in steps
        ],
    )


class ApplicationSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    case_number: str
    item_id: str
    item_name: str | None
    department_code: str
    status: str
    channel: str
    bundle_id: str | None
    created_at: datetime
    promised_date: date | None


class OutputPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    method: str
    status: str
    pickup_place: str | None
    courier: str | None
    tracking_number: str | None
    attempts: int
    delivered_at: datetime | None


class FilePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    sha256: str
    size: int
    content_type: str
    filename: str | None
    created_at: datetime
