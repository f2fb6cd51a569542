"""Intake decisions: 受理 (即办件 completed at once), 容缺受理, 一次性告知, 不予受理."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from intake.applications import events
from intake.applications.context import Context, china_date
from intake.applications.history import Journal
from intake.applications.materials import DATASHARE, DEFERRED, IDENTITY, MISSING, Material, keep
from intake.applications.models import BadCreditEntry, RongquePromise, StoredFile
from intake.applications.schemas import RongquePromise as PromiseIn
from intake.hall.rules import conflict, invalid
from intake.models import Application, CatalogItem

APPEAL_RIGHTS = (
    "如对本决定不服，可以自收到本通知书之日起六十日内向金华市婺城区人民政府申请行政复议，"
    "或者自收到本通知书之日起六个月内依法向人民法院提起行政诉讼。"
)
PROMISE = "本人承诺于{deadline}前补齐以下材料：{materials}。逾期未补齐的，同意终止办理，并承担相应责任。"
INSTANT = "即办件"


def one_certificate(rows: list[Material]) -> bool:
    """一证通办: every required material was the ID card or came from datashare."""
    return all(r.status in (IDENTITY, DATASHARE) for r in rows if r.required)


def instant(application: Application, item: CatalogItem) -> bool:
    """即办件 taken in at a window with everything present are completed there and then."""
    return item.handling_type == INSTANT and application.channel == "window" and not application.rongque


def accept(
    journal: Journal,
    ctx: Context,
    application: Application,
    item: CatalogItem,
    rows: list[Material],
    files: dict[str, StoredFile],
    now: datetime,
    actor: str,
    promise: RongquePromise | None = None,
) -> None:
    application.accepted_at = now
    application.one_certificate = one_certificate(rows)
    promised = ctx.promised_date(china_date(now), item.promised_limit_days, item.promised_limit_unit)
    application.promised_date = promised
    if promise is not None:
        detail = {"materials": promise.materials, "deadline": promise.deadline_date.isoformat()}
        journal.move(application, "accepted", now, actor, detail=detail, recorded_as="rongque_accepted")
    else:
        journal.move(application, "accepted", now, actor, detail={"promised_date": promised.isoformat()})
    if not instant(application, item):
        accepted = events.accepted(application, item, rows, files, promise)
        journal.publish("intake.application.accepted", application, accepted)
        return
    application.instant, application.decision, application.decided_at = True, "approved", now
    application.on_time, application.delivery_method, application.delivered_at = True, "window", now
    journal.move(application, "approved", now, actor, reason="即办件当场办结")
    journal.move(application, "delivered", now, actor, reason="窗口当场出件")
    journal.publish("intake.application.completed", application, events.completed(application, now))


async def on_bad_credit_list(session: AsyncSession, application: Application, now: datetime) -> bool:
    subjects = {application.applicant_id, application.legal_representative_id} - {None}
    today = china_date(now)
    listed = await session.scalar(
        sa.select(sa.func.count())
        .select_from(BadCreditEntry)
        .where(
            BadCreditEntry.subject_id.in_(subjects),
            sa.or_(BadCreditEntry.expires_on.is_(None), BadCreditEntry.expires_on >= today),
        )
    )
    return bool(listed)


async def accept_with_promise(
    session: AsyncSession,
    journal: Journal,
    ctx: Context,
    application: Application,
    item: CatalogItem,
    rows: list[Material],
    files: dict[str, StoredFile],
    promise_in: PromiseIn,
    now: datetime,
    actor: str,
) -> RongquePromise:
    """容缺受理: only non-key materials the item allows, never for applicants on the bad-credit list."""
    missing = [r for r in rows if r.status == MISSING]
    if not missing:
        raise conflict(
            "nothing_missing",
            "材料齐全，无需容缺 (nothing is missing: accept)",
            "rongque",
            "something_missing",
        )
    blockers = [r.name for r in missing if not r.rongque_allowed]
    if blockers:
        raise invalid(
            "rongque_not_allowed",
            f"以下材料不可容缺，须先补齐 (key or not 容缺-able): {'、'.join(blockers)}",
            "rongque",
            "rongque_materials_only",
        )
    if await on_bad_credit_list(session, application, now):
        raise conflict(
            "rongque_refused_bad_credit",
            "申请人在失信名单中，不适用容缺受理 (applicants on the bad-credit list are refused 容缺)",
            "applicant_id",
            "not_on_bad_credit_list",
        )
    deadline = ctx.calendar.add_working_days(
        china_date(now), promise_in.working_days or ctx.options.rongque_working_days
    )
    names = [r.name for r in missing]
    for row in missing:
        row.status = DEFERRED
    keep(application, rows)
    text = promise_in.promise or PROMISE.format(
        deadline=f"{deadline:%Y年%-m月%-d日}", materials="、".join(names)
    )
    promise = RongquePromise(
        application_id=application.id,
        materials=names,
        promise_text=text,
        signed_name=promise_in.signed_name,
        signed_at=now,
        recorded_by=actor[:100],
        deadline_date=deadline,
        status="open",
        warned_on=None,
        closed_at=None,
    )
    journal.add(promise)
    application.rongque = True
    accept(journal, ctx, application, item, rows, files, now, actor, promise)
    return promise


def return_missing(
    journal: Journal,
    application: Application,
    rows: list[Material],
    also_missing: list[str],
    reason: str | None,
    now: datetime,
    actor: str,
) -> None:
    """一次性告知: everything still to bring, told in one go (and the notice lists the samples)."""
    known = {r.name for r in rows}
    for n, name in enumerate(also_missing):
        if name not in known:
            raise invalid(
                "unknown_material", f"“{name}”不是本申请的材料", f"also_missing.{n}", "item_material"
            )
    names = list(dict.fromkeys([r.name for r in rows if r.status == MISSING] + also_missing))
    if not names:
        raise conflict(
            "nothing_missing", "材料齐全，无需一次性告知 (nothing is missing)", "kind", "something_missing"
        )
    journal.move(application, "returned", now, actor, reason=reason, detail={"materials": names})
    journal.publish(
        "intake.application.returned", application, events.returned(application, names, reason, now)
    )


def refuse(
    journal: Journal,
    application: Application,
    reason: str,
    appeal_rights: str | None,
    now: datetime,
    actor: str,
) -> None:
    """不予受理: the reason and the applicant's appeal rights, on the notice and in the event."""
    rights = appeal_rights or APPEAL_RIGHTS
    journal.move(application, "refused", now, actor, reason=reason, detail={"appeal_rights": rights})
    journal.publish(
        "intake.application.refused", application, events.refused(application, reason, rights, now)
    )
