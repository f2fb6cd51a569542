"""How each material stands: the ID card, a file, fetched by datashare (一证通办), missing or optional."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from contracts.certificates import IDENTITY_DOCUMENT
from intake.applications.datashare import Verdict
from intake.applications.schemas import MaterialGiven
from intake.hall.rules import invalid
from intake.models import Application

IDENTITY, FILE, DATASHARE, MISSING, OPTIONAL = "identity", "file", "datashare", "missing", "optional"
DEFERRED, SUPPLIED = "deferred", "supplied"  # 容缺: promised at acceptance, then handed in
PROVIDED = (IDENTITY, FILE, DATASHARE, SUPPLIED)
SHOW_ID_CARD = "核验申请人居民身份证即可 (the applicant's ID card, verified with the ID number)"
NOT_GIVEN = "未提交 (not handed in)"


@dataclass
class Material:
    """One material of an application and how it was provided (a JSON list on the application row)."""

    name: str
    required: bool
    key: bool
    rongque_allowed: bool
    certificate_type: str | None
    status: str
    file_id: str | None = None
    evidence_ref: str | None = None
    supplied_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["supplied_at"] = None if self.supplied_at is None else self.supplied_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Material:
        at = data.get("supplied_at")
        return cls(**{**data, "supplied_at": None if at is None else datetime.fromisoformat(at)})


def materials_of(application: Application) -> list[Material]:
    return [Material.from_json(m) for m in application.materials or []]


def keep(application: Application, materials: list[Material]) -> None:
    """Write the materials back to the row (a new list, so the change is seen)."""
    application.materials = [m.as_json() for m in materials]


@dataclass(frozen=True)
class State:
    spec: dict[str, Any]  # the item version's material: name, required, key, rongque, certificate_type…
    status: str
    reason: str
    message: str
    file_id: str | None = None
    evidence_ref: str | None = None

    @property
    def name(self) -> str:
        return str(self.spec["name"])

    @property
    def rongque_able(self) -> bool:
        """容缺 only for a material the item marks so, and never for a key material."""
        return bool(self.spec.get("rongque")) and not self.spec.get("key")


def given_by_name(
    specs: list[dict[str, Any]], given: list[MaterialGiven], field: str
) -> dict[str, MaterialGiven]:
    """The materials handed in, by name; each must be one of the item's (in the chosen 情形)."""
    known = {s["name"] for s in specs}
    by_name: dict[str, MaterialGiven] = {}
    for n, material in enumerate(given):
        if material.name not in known:
            raise invalid(
                "unknown_material",
                f"“{material.name}”不是本事项（所选情形）的申请材料 (not a material of the item)",
                f"{field}.{n}.name",
                "item_material",
            )
        by_name[material.name] = material
    return by_name


def to_fetch(specs: list[dict[str, Any]], given: dict[str, MaterialGiven]) -> list[dict[str, Any]]:
    """Materials datashare could supply: a certificate type other than the ID card, not handed in."""
    return [
        s
        for s in specs
        if s.get("certificate_type") and s["certificate_type"] != IDENTITY_DOCUMENT and s["name"] not in given
    ]


def assess(
    specs: list[dict[str, Any]],
    given: dict[str, MaterialGiven],
    verdicts: dict[str, Verdict],
    reference: str | None,
) -> list[State]:
    states = []
    for spec in specs:
        name, handed = spec["name"], given.get(spec["name"])
        verdict = verdicts.get(name)
        if spec.get("certificate_type") == IDENTITY_DOCUMENT:
            states.append(State(spec, IDENTITY, "identity_document", SHOW_ID_CARD))
        elif handed is not None and handed.file_id is not None:
            states.append(State(spec, FILE, "uploaded", "已上传 (uploaded)", file_id=handed.file_id))
        elif handed is not None:
            message = "已提供电子证照 (evidence reference given)"
            states.append(State(spec, DATASHARE, "evidence", message, evidence_ref=handed.evidence_ref))
        elif verdict is not None and verdict.supply == DATASHARE:
            states.append(State(spec, DATASHARE, verdict.reason, verdict.message, evidence_ref=reference))
        else:
            status = MISSING if spec.get("required") else OPTIONAL
            reason = verdict.reason if verdict is not None else "not_given"
            states.append(State(spec, status, reason, verdict.message if verdict is not None else NOT_GIVEN))
    return states


def missing(states: list[State]) -> list[State]:
    return [s for s in states if s.status == MISSING]


def one_certificate(states: list[State]) -> bool:
    """一证通办: nothing but the ID card was needed from the applicant."""
    return all(s.status in (IDENTITY, DATASHARE) for s in states if s.spec.get("required"))


def precheck_status(state: State) -> str:
    """The four answers of a pre-check: fetched by datashare, provided, missing, or 容缺-able."""
    if state.status in (IDENTITY, FILE):
        return "provided"
    if state.status == MISSING:
        return "rongque" if state.rongque_able else "missing"
    return state.status
