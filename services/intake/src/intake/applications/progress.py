"""Progress (进度查询) by case number and ID number, and "my applications"."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from intake.applications.access import may_see, visible
from intake.applications.models import Output, StatusChange
from intake.applications.schemas import ProgressQuery
from intake.applications.views import ApplicationSummary, ProgressPublic, progress_view
from intake.models import Application
from servicekit.identity import Identity
from servicekit.problems import not_found


async def lookup(session: AsyncSession, identity: Identity, body: ProgressQuery) -> ProgressPublic:
    """Both must match, and the caller must be entitled to the case: nothing tells which one failed."""
    application = await session.scalar(
        sa.select(Application).where(Application.case_number == body.case_number)
    )
    holders = (
        ()
        if application is None
        else (
            application.applicant_id,
            application.legal_representative_id,
            application.agent_id,
        )
    )
    if application is None or body.id_number.upper() not in holders or not may_see(identity, application):
        raise not_found("办件 case", body.case_number)
    steps = await session.scalars(
        sa.select(StatusChange).where(StatusChange.application_id == application.id).order_by(StatusChange.id)
    )
    return progress_view(application, list(steps), await session.get(Output, application.id))


async def listed(
    session: AsyncSession, identity: Identity, status: str | None, limit: int, offset: int
) -> list[ApplicationSummary]:
    """A citizen's own (我的办件), a department's own, or all for windows and operators; newest first."""
    query = sa.select(Application).where(visible(identity))
    if status is not None:
        query = query.where(Application.status == status)
    query = query.order_by(Application.created_at.desc(), Application.id).limit(limit).offset(offset)
    return [ApplicationSummary.model_validate(a) for a in await session.scalars(query)]
