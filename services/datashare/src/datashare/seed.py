"""Members, evidence catalogue and demo certificates, events included: `load_demo`, `python -m datashare.seed`."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from govcodes.creditcode import check_char
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.certificates import CERTIFICATE_TYPES
from datashare import clock, demodata
from datashare.certificates.service import add_held
from datashare.handlers import INTAKE_MEMBER
from datashare.models import Certificate, CertificateType, Consent, Member, Subsystem
from datashare.settings import DatashareSettings
from datashare.subjects import subject_hash
from servicekit.db import make_engine, make_sessionmaker
from servicekit.masking import mask_id

log = logging.getLogger(__name__)
DATA_DIR = Path(__file__).parent / "data"
# Read as a file, not imported: the catalog package is another service's code.
DEPARTMENTS_FILE = Path(__file__).resolve().parents[3] / "catalog/src/catalog/data/wucheng/departments.json"
_INTAKE_ORG = "12330702MB0A1234X"
INTAKE = {
    "code": INTAKE_MEMBER,
    "name": "金华市婺城区行政服务中心（综合受理）",
    "credit_code": _INTAKE_ORG + check_char(_INTAKE_ORG),
    "level": "platform",
}


def _members(departments_file: Path) -> list[dict[str, Any]]:
    if not departments_file.exists():
        log.warning("no %s: only the intake member is registered", departments_file)
        departments = []
    else:
        departments = json.loads(departments_file.read_text(encoding="utf-8"))
    members = [
        {
            "code": d["code"],
            "name": d["name"],
            "credit_code": d["credit_code"],
            "level": d.get("level", "district"),
            "subsystem": ("approval", f"{d.get('short_name', d['name'])}审批系统", f"dept-{d['code']}"),
        }
        for d in departments
    ]
    return [*members, {**INTAKE, "subsystem": ("yichuang", "一窗受理系统", "intake")}]


async def _load_directory(session: AsyncSession, departments_file: Path, now: datetime) -> int:
    members = _members(departments_file)
    for m in members:
        code, name, client_id = m.pop("subsystem")
        session.add(Member(**m, registered_at=now))
        session.add(
            Subsystem(member_code=m["code"], code=code, name=name, client_id=client_id, registered_at=now)
        )
    await session.flush()
    catalogue = json.loads((DATA_DIR / "catalogue.json").read_text(encoding="utf-8"))
    known = {m["code"] for m in members}
    for code, spec in catalogue.items():
        if spec["provider"] not in known:
            continue
        session.add(
            CertificateType(
                code=code,
                name=CERTIFICATE_TYPES[code],
                provider_code=spec["provider"],
                subject_kind=spec["subject_kind"],
                fields=spec["fields"],
                validity=spec["validity"],
                max_age_days=spec.get("max_age_days"),
                trust_level=spec["trust_level"],
                consent_required=spec["consent_required"],
                endpoint_url=None,
                timeout_ms=2000,
                updated_at=now,
            )
        )
    return len(members)


async def _load_certificates(session: AsyncSession, today: date, now: datetime) -> int:
    catalogued = set((await session.scalars(sa.select(CertificateType.code))).all())
    issued = [c for c in demodata.certificates(today) if c.certificate_type in catalogued]
    for c in issued:
        certificate = Certificate(
            id=uuid.uuid4().hex,
            certificate_type=c.certificate_type,
            number=c.number,
            subject_id=c.subject_id,
            issuer_code=c.issuer_code,
            issued_on=c.issued_on,
            valid_until=c.valid_until,
            status=c.status,
            registered_at=now,
            holder_name=c.holder_name,
            fields=c.fields,
            status_changed_at=now if c.status != "valid" else None,
            status_reason="演示：已注销 (demo: revoked)" if c.status == "revoked" else None,
        )
        await add_held(session, certificate)
    for subject, certificate_type in demodata.consenting_subjects():
        session.add(
            Consent(
                id=uuid.uuid4().hex,
                subject_hash=subject_hash(subject),
                subject_mask=mask_id(subject),
                certificate_type=certificate_type,
                given_by="demo",
                given_at=now,
            )
        )
    return len(issued)


async def load_demo(
    sessions: async_sessionmaker[AsyncSession], departments_file: Path = DEPARTMENTS_FILE
) -> dict[str, int]:
    """Members, catalogue and demo certificates; does nothing when members already exist.

    Access rules are not seeded: they follow from the items the catalogue publishes (see
    handlers.item_published), so they arrive with the catalogue's events.
    """
    now, today = datetime.now(UTC), clock.today()
    async with sessions() as session, session.begin():
        if await session.scalar(sa.select(sa.func.count()).select_from(Member)):
            return {"members": 0, "certificate_types": 0, "certificates": 0}
        members = await _load_directory(session, departments_file, now)
        certificates = await _load_certificates(session, today, now)
        types = await session.scalar(sa.select(sa.func.count()).select_from(CertificateType))
    return {"members": members, "certificate_types": types or 0, "certificates": certificates}


async def _main() -> None:
    engine = make_engine(DatashareSettings().database_url)
    counts = await load_demo(make_sessionmaker(engine))
    print(", ".join(f"{v} {k}" for k, v in counts.items()) or "already loaded")
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(_main())
