"""材料预审: before any trip, each material of the item (in the chosen 情形) and what to do about it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from intake.applications.access import check_window
from intake.applications.checks import subject_hash
from intake.applications.context import Context, china_date
from intake.applications.datashare import Resolution
from intake.applications.files import check_files
from intake.applications.items import applicable_item, situation_materials
from intake.applications.materials import assess, given_by_name, one_certificate, precheck_status, to_fetch
from intake.applications.models import Precheck
from intake.applications.schemas import PrecheckCreate
from intake.applications.views import PrecheckMaterial, PrecheckPublic
from servicekit.auth import forbidden
from servicekit.identity import Identity


def _check_caller(identity: Identity, body: PrecheckCreate) -> None:
    if identity.kind == "citizen":
        if body.subject_kind != "person" or body.subject_id != identity.citizen_id:
            raise forbidden("只能预审本人的材料；企业请在窗口预审 (a citizen pre-checks for themselves)")
        return
    check_window(identity)


async def precheck(
    session: AsyncSession, ctx: Context, identity: Identity, body: PrecheckCreate, now: datetime
) -> PrecheckPublic:
    _check_caller(identity, body)
    async with session.begin():
        item = await applicable_item(session, ctx.items, body.item_id, body.item_version, china_date(now))
        specs = situation_materials(item, body.situation_code)
        given = given_by_name(specs, body.materials, "materials")
        await check_files(session, identity, body.materials, "materials")
    fetch = to_fetch(specs, given)
    resolution = Resolution(True, None, {})
    if fetch:  # no connection is held while datashare answers
        resolution = await ctx.datashare.resolve(
            subject_id=body.subject_id,
            item_id=item.item_id,
            item_version=item.version,
            materials=fetch,
            officer=identity.client_id,
        )
    states = assess(specs, given, resolution.verdicts, resolution.reference)
    materials = [
        PrecheckMaterial(
            name=s.name,
            required=bool(s.spec.get("required")),
            key=bool(s.spec.get("key")),
            certificate_type=s.spec.get("certificate_type"),
            status=precheck_status(s),
            reason=s.reason,
            message=s.message,
            sample=s.spec.get("sample"),
            form=s.spec.get("form"),
        )
        for s in states
    ]
    stored = Precheck(
        id=uuid.uuid4().hex,
        subject_hash=subject_hash(body.subject_id),
        item_id=item.item_id,
        item_version=item.version,
        situation_code=body.situation_code,
        materials=[m.model_dump(include={"name", "status", "reason", "message"}) for m in materials],
        resolution_id=resolution.reference,
        created_by=identity.client_id[:100],
        created_at=now,
    )
    async with session.begin():
        session.add(stored)
    return PrecheckPublic(
        id=stored.id,
        item_id=item.item_id,
        item_version=item.version,
        item_name=item.name,
        situation_code=body.situation_code,
        one_certificate=one_certificate(states),
        datashare_available=resolution.available,
        to_bring=[m.name for m in materials if m.status in ("missing", "rongque")],
        materials=materials,
        valid_until=now + timedelta(hours=ctx.options.precheck_valid_hours),
    )
