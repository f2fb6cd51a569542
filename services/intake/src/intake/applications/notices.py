"""Printable notices of the intake decision (受理, 容缺受理 with the promise, 一次性告知, 不予受理)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from intake.applications.models import RongquePromise, StatusChange
from intake.hall.clock import CHINA
from intake.hall.rules import conflict
from intake.models import Application, CatalogItem
from servicekit.masking import mask_id

TITLES = {
    "accepted": "受理通知书",
    "rongque_accepted": "容缺受理通知书",
    "returned": "一次性告知书",
    "refused": "不予受理通知书",
}
_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)


def _day(moment: datetime) -> str:
    return f"{moment.astimezone(CHINA):%Y年%-m月%-d日}"


async def render_notice(session: AsyncSession, application: Application) -> str:
    """The notice of the one intake decision taken; none yet is a conflict."""
    step = await session.scalar(
        sa.select(StatusChange)
        .where(StatusChange.application_id == application.id, StatusChange.status.in_(TITLES))
        .order_by(StatusChange.id)
        .limit(1)
    )
    if step is None:
        raise conflict(
            "no_intake_decision", "尚未作出受理决定，没有通知书 (no decision yet)", "status", "decided"
        )
    detail = step.detail or {}
    missing: list[str] = detail.get("materials", [])
    item = await session.get(CatalogItem, (application.item_id, application.item_version))
    specs = [m for m in (item.materials if item else []) if m["name"] in missing]
    promise = await session.get(RongquePromise, application.id)
    return _ENV.get_template("notice.html").render(
        title=TITLES[step.status],
        kind=step.status,
        a=application,
        masked=mask_id(application.applicant_id),
        at=_day(application.created_at),
        today=_day(step.at),
        promised=f"{application.promised_date:%Y年%-m月%-d日}" if application.promised_date else "",
        missing=missing,
        missing_specs=specs,
        reason=step.reason,
        appeal_rights=detail.get("appeal_rights"),
        promise=promise,
        deadline=f"{promise.deadline_date:%Y年%-m月%-d日}" if promise else "",
        signed=_day(promise.signed_at) if promise else "",
    )
