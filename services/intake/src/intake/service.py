"""Intake use cases; each opens exactly one transaction and writes its events in it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import new_event
from contracts.intake import ApplicationAccepted
from intake.models import Application, CaseSerial, CatalogItem
from intake.schemas import ApplicationCreate
from messaging.outbox import add_event
from servicekit.auth import forbidden
from servicekit.identity import Identity
from servicekit.logs import request_id_var
from servicekit.problems import Problem, not_found

SOURCE = "/intake"


async def current_item(session: AsyncSession, item_id: str) -> CatalogItem | None:
    return await session.scalar(
        sa.select(CatalogItem)
        .where(CatalogItem.item_id == item_id, CatalogItem.effective_to.is_(None))
        .order_by(CatalogItem.version.desc())
        .limit(1)
    )


async def next_case_number(session: AsyncSession, implementation_code: str, day: datetime) -> str:
    """Implementation code + yyyyMMdd + 4-digit serial; the row lock serialises concurrent takers."""
    prefix = implementation_code + day.strftime("%Y%m%d")
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    upsert = (
        insert(CaseSerial)
        .values(prefix=prefix, last=1)
        .on_conflict_do_update(index_elements=[CaseSerial.prefix], set_={"last": CaseSerial.last + 1})
        .returning(CaseSerial.last)
    )
    serial = (await session.execute(upsert)).scalar_one()
    if serial > 9999:
        raise Problem(503, "case_serial_exhausted", "今日编号已用尽 Serials exhausted", prefix)
    return f"{prefix}{serial:04d}"


def check_may_apply(identity: Identity, data: ApplicationCreate) -> None:
    """A citizen applies for themselves; a hall window (前台综合受理) for anyone."""
    if identity.kind == "citizen" and identity.citizen_id != data.applicant_id:
        raise forbidden("只能为本人申请 (a citizen applies for themselves; 代办 goes through a window)")
    if identity.kind == "system":
        raise forbidden("系统客户端不能代替申请人提交 (systems do not apply on a citizen's behalf)")


def may_see(identity: Identity, application: Application) -> bool:
    if identity.kind == "citizen":
        return identity.citizen_id == application.applicant_id
    if identity.kind == "operator" or (identity.kind == "staff" and identity.window is not None):
        return True
    return identity.department is not None and identity.department == application.department_code


async def submit_application(
    session: AsyncSession, identity: Identity, data: ApplicationCreate, idempotency_key: str | None
) -> tuple[Application, bool]:
    """Accept an application; returns (application, created). A repeated key returns the first."""
    check_may_apply(identity, data)
    async with session.begin():
        if idempotency_key is not None:
            earlier = await session.scalar(
                sa.select(Application).where(Application.idempotency_key == idempotency_key)
            )
            if earlier is not None and may_see(identity, earlier):
                return earlier, False
            if earlier is not None:
                raise Problem(
                    409, "idempotency_key_reused", "幂等键已被使用 Key in use", "use a new Idempotency-Key"
                )
        item = await current_item(session, data.item_id)
        if item is None:
            raise Problem(
                422,
                "unknown_item",
                "事项不存在或已废止 Unknown item",
                f"事项 {data.item_id} 不存在或已废止 (unknown or retired item)",
                errors=[{"field": "item_id", "rule": "published_item", "message": "unknown or retired item"}],
            )
        now = datetime.now(UTC)
        application = Application(
            id=uuid.uuid4().hex,
            case_number=await next_case_number(session, item.implementation_code, now),
            item_id=item.item_id,
            item_version=item.version,
            department_code=item.department_code,
            applicant_kind="person",
            applicant_id=data.applicant_id,
            applicant_name=data.applicant_name,
            channel=data.channel,
            status="accepted",
            idempotency_key=idempotency_key,
            created_at=now,
            accepted_at=now,
        )
        session.add(application)
        accepted = ApplicationAccepted(
            application_id=application.id,
            case_number=application.case_number,
            item_id=item.item_id,
            item_version=item.version,
            department_code=item.department_code,
            applicant_kind="person",
            applicant_id=data.applicant_id,
            applicant_name=data.applicant_name,
            accepted_at=now,
        )
        await add_event(
            session,
            new_event(
                type="intake.application.accepted",
                source=SOURCE,
                subject=application.id,
                data=accepted,
                requestid=request_id_var.get(),
            ),
        )
    return application, True


async def get_application(session: AsyncSession, identity: Identity, application_id: str) -> Application:
    application = await session.get(Application, application_id)
    # Someone else's application answers exactly like a missing one: ids cannot be probed.
    if application is None or not may_see(identity, application):
        raise not_found("申请 application", application_id)
    return application


async def get_item(session: AsyncSession, item_id: str) -> CatalogItem:
    item = await current_item(session, item_id)
    if item is None:
        raise not_found("事项 item", item_id)
    return item
