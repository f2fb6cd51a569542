"""Request bodies of applications: applicant, 代办, materials, 容缺 promise, delivery, bundles, decisions."""

from __future__ import annotations

from typing import Literal, Self

from govcodes.creditcode import validate_credit_code
from govcodes.idnumber import validate_id_number
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

HEX_ID = r"^[0-9a-f]{32}$"
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"  # no control characters: PostgreSQL refuses NUL, notices print text
MOBILE = r"^1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$"
CASE_NUMBER = r"^[0-9A-Z]{31,33}\d{12}$"


class Agent(BaseModel):
    """代办: who acts for the applicant at the window (recorded, and may follow the case)."""

    model_config = ConfigDict(extra="forbid")

    id_number: str = Field(description="The agent's resident ID number (GB 11643)")
    name: str = Field(min_length=2, max_length=100, pattern=PRINTABLE)
    phone: str | None = Field(default=None, pattern=MOBILE)

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, value: str) -> str:
        return validate_id_number(value)


class MaterialGiven(BaseModel):
    """A material handed in: an uploaded file (POST /files) or a datashare evidence reference."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1, max_length=100, description="As the item's material list names it", pattern=PRINTABLE
    )
    file_id: str | None = Field(default=None, pattern=HEX_ID)
    evidence_ref: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Datashare evidence request id",
        pattern=PRINTABLE,
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.file_id is None) == (self.evidence_ref is None):
            raise ValueError("give exactly one of file_id and evidence_ref")
        return self


class RongquePromise(BaseModel):
    """容缺受理: the applicant signs that they will supply the missing materials by the deadline."""

    model_config = ConfigDict(extra="forbid")

    signed_name: str = Field(
        min_length=2, max_length=100, description="The name the applicant signed", pattern=PRINTABLE
    )
    promise: str | None = Field(
        default=None, max_length=500, description="Default: the standard promise", pattern=PRINTABLE
    )
    working_days: int | None = Field(default=None, ge=1, le=30, description="Default: the service's setting")


class DeliveryChoice(BaseModel):
    """出件: pickup at the output window with a code sent to the applicant, or courier."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["pickup", "courier"]
    recipient_name: str | None = Field(default=None, min_length=2, max_length=100, pattern=PRINTABLE)
    recipient_phone: str | None = Field(default=None, pattern=MOBILE)
    address: str | None = Field(default=None, min_length=5, max_length=300, pattern=PRINTABLE)

    @model_validator(mode="after")
    def _courier_needs_address(self) -> Self:
        if self.method == "courier" and not (self.recipient_name and self.recipient_phone and self.address):
            raise ValueError("courier delivery needs recipient_name, recipient_phone and address")
        return self


class Applicant(BaseModel):
    """Who applies, for whom, through which channel (shared by single applications and bundles)."""

    applicant_kind: Literal["person", "enterprise"] = "person"
    applicant_id: str = Field(description="Resident ID number, or unified social credit code (enterprise)")
    applicant_name: str = Field(min_length=2, max_length=100, pattern=PRINTABLE)
    applicant_phone: str | None = Field(default=None, pattern=MOBILE)
    legal_representative: str | None = Field(default=None, min_length=2, max_length=100, pattern=PRINTABLE)
    legal_representative_id: str | None = Field(default=None, description="法定代表人 ID number")
    agent: Agent | None = None
    channel: Literal["window", "online"] | None = Field(
        default=None, description="Default: window for window staff, online otherwise"
    )
    ticket_id: str | None = Field(default=None, pattern=HEX_ID, description="The ticket being served")
    delivery: DeliveryChoice | None = None

    @field_validator("applicant_id")
    @classmethod
    def _applicant_id(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("applicant_kind") == "enterprise":
            return validate_credit_code(value)
        return validate_id_number(value)

    @field_validator("legal_representative_id")
    @classmethod
    def _representative_id(cls, value: str | None) -> str | None:
        return None if value is None else validate_id_number(value)


class ItemRequest(BaseModel):
    """One item applied for: the version (default: in force), the 情形 and the materials handed in."""

    item_id: str = Field(min_length=1, max_length=40, pattern=PRINTABLE)
    item_version: int | None = Field(default=None, ge=1, le=100000, description="Pin a version")
    situation_code: str | None = Field(default=None, min_length=1, max_length=20, pattern=PRINTABLE)
    materials: list[MaterialGiven] = Field(default_factory=list, max_length=50)
    precheck_id: str | None = Field(default=None, pattern=HEX_ID, description="A 预审 of this applicant")
    rongque: RongquePromise | None = Field(default=None, description="Ask for 容缺受理 with this promise")


class ApplicationCreate(Applicant, ItemRequest):
    """An application for one item; complete ones are accepted at once, others wait or are returned."""


class BundleItem(ItemRequest):
    model_config = ConfigDict(extra="forbid")


class BundleCreate(Applicant):
    """一件事: several items submitted at once for one applicant, tracked as one."""

    name: str = Field(min_length=2, max_length=100, examples=["新生儿出生一件事"], pattern=PRINTABLE)
    items: list[BundleItem] = Field(min_length=2, max_length=10)


class PrecheckCreate(BaseModel):
    """材料预审: the ID number goes in this body, never in a URL."""

    model_config = ConfigDict(extra="forbid")

    item_id: str = Field(min_length=1, max_length=40, pattern=PRINTABLE)
    item_version: int | None = Field(default=None, ge=1, le=100000)
    situation_code: str | None = Field(default=None, min_length=1, max_length=20, pattern=PRINTABLE)
    subject_kind: Literal["person", "enterprise"] = "person"
    subject_id: str = Field(description="Resident ID number, or unified social credit code")
    materials: list[MaterialGiven] = Field(
        default_factory=list, max_length=50, description="Already provided"
    )

    @field_validator("subject_id")
    @classmethod
    def _subject(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("subject_kind") == "enterprise":
            return validate_credit_code(value)
        return validate_id_number(value)


class DecisionCreate(BaseModel):
    """The window's intake decision on a submitted application (受理, 容缺受理, 一次性告知, 不予受理)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["accept", "rongque", "return", "refuse"]
    reason: str | None = Field(default=None, min_length=2, max_length=500, pattern=PRINTABLE)
    appeal_rights: str | None = Field(default=None, min_length=2, max_length=500, pattern=PRINTABLE)
    also_missing: list[str] = Field(
        default_factory=list, max_length=50, description="一次性告知: materials handed in but unusable"
    )
    rongque: RongquePromise | None = None

    @model_validator(mode="after")
    def _what_each_needs(self) -> Self:
        if self.kind == "refuse" and self.reason is None:
            raise ValueError("不予受理 needs a reason")
        if self.kind == "rongque" and self.rongque is None:
            raise ValueError("容缺受理 needs the applicant's signed promise (rongque)")
        return self


class MaterialsSupplied(BaseModel):
    """Materials handed in after submission: before the decision, or the promised 容缺 ones."""

    model_config = ConfigDict(extra="forbid")

    materials: list[MaterialGiven] = Field(min_length=1, max_length=50)


class ProgressQuery(BaseModel):
    """Progress by case number and the applicant's ID number (in the body, never in a URL)."""

    model_config = ConfigDict(extra="forbid")

    case_number: str = Field(pattern=CASE_NUMBER)
    id_number: str = Field(min_length=18, max_length=18)


class PickupCheck(BaseModel):
    """At the output window: the case and the code the applicant was sent."""

    model_config = ConfigDict(extra="forbid")

    case_number: str = Field(pattern=CASE_NUMBER)
    pickup_code: str = Field(pattern=r"^\d{6}$")


class CourierEvent(BaseModel):
    """A delivery status the courier reports for a tracking number."""

    model_config = ConfigDict(extra="forbid")

    tracking_number: str = Field(pattern=r"^[A-Z]{2}\d{9}[A-Z]{2}$")
    status: Literal["in_transit", "delivered", "failed"]
    note: str | None = Field(default=None, max_length=200, pattern=PRINTABLE)
