"""The events of an application on `intake.applications`, keyed by application id."""

from __future__ import annotations

from datetime import datetime

from contracts.intake import (
    AgentRef,
    ApplicationAccepted,
    ApplicationCompleted,
    ApplicationRefused,
    ApplicationReturned,
    MaterialRef,
    RongqueFulfilled,
)
from intake.applications.materials import Material
from intake.applications.models import RongquePromise, StoredFile
from intake.models import Application, CatalogItem


def material_refs(rows: list[Material], files: dict[str, StoredFile]) -> list[MaterialRef]:
    refs = []
    for row in rows:
        stored = files.get(row.file_id or "")
        refs.append(
            MaterialRef(
                name=row.name,
                status=row.status,
                required=row.required,
                certificate_type=row.certificate_type,
                evidence_ref=row.evidence_ref,
                file_id=row.file_id,
                sha256=stored.sha256 if stored else None,
                size=stored.size if stored else None,
                content_type=stored.content_type if stored else None,
            )
        )
    return refs


def accepted(
    application: Application,
    item: CatalogItem,
    rows: list[Material],
    files: dict[str, StoredFile],
    promise: RongquePromise | None,
) -> ApplicationAccepted:
    """Everything the deciding department (or municipal system, for a 上报件) needs to work the case."""
    assert application.accepted_at is not None
    agent = None
    if application.agent_id is not None and application.agent_name is not None:
        agent = AgentRef(id_number=application.agent_id, name=application.agent_name)
    return ApplicationAccepted(
        application_id=application.id,
        case_number=application.case_number,
        item_id=application.item_id,
        item_version=application.item_version,
        department_code=application.department_code,
        applicant_kind=application.applicant_kind,
        applicant_id=application.applicant_id,
        applicant_name=application.applicant_name,
        rongque=application.rongque,
        accepted_at=application.accepted_at,
        promised_date=application.promised_date,
        item_name=item.name,
        handling_type=item.handling_type,
        deciding_level=item.deciding_level,
        deciding_department=item.deciding_department,
        situation_code=application.situation_code,
        channel=application.channel,
        bundle_id=application.bundle_id,
        one_certificate=application.one_certificate,
        legal_representative=application.legal_representative,
        agent=agent,
        materials=material_refs(rows, files),
        rongque_materials=list(promise.materials) if promise else [],
        rongque_due_date=promise.deadline_date if promise else None,
    )


def _closed(application: Application, now: datetime) -> dict[str, object]:
    return {
        "application_id": application.id,
        "case_number": application.case_number,
        "item_id": application.item_id,
        "item_version": application.item_version,
        "department_code": application.department_code,
        "applicant_kind": application.applicant_kind,
        "applicant_id": application.applicant_id,
        "applicant_name": application.applicant_name,
        "at": now,
    }


def returned(
    application: Application, materials: list[str], reason: str | None, now: datetime
) -> ApplicationReturned:
    return ApplicationReturned.model_validate(
        {**_closed(application, now), "materials": materials, "reason": reason}
    )


def refused(application: Application, reason: str, appeal_rights: str, now: datetime) -> ApplicationRefused:
    return ApplicationRefused.model_validate(
        {**_closed(application, now), "reason": reason, "appeal_rights": appeal_rights}
    )


def completed(application: Application, now: datetime) -> ApplicationCompleted:
    return ApplicationCompleted.model_validate(
        {
            **_closed(application, now),
            "channel": application.channel,
            "bundle_id": application.bundle_id,
            "one_certificate": application.one_certificate,
        }
    )


def fulfilled(application: Application, refs: list[MaterialRef], now: datetime) -> RongqueFulfilled:
    return RongqueFulfilled(
        application_id=application.id,
        case_number=application.case_number,
        department_code=application.department_code,
        materials=refs,
        fulfilled_at=now,
    )
