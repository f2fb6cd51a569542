"""出件, the single output window: a decided result is handed over by pickup code or by courier."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.intake import OutputDelivered, OutputDispatched, OutputReady
from intake.applications.access import check_window
from intake.applications.context import Context
from intake.applications.courier import Shipment
from intake.applications.history import Journal
from intake.applications.models import Output
from intake.applications.schemas import CourierEvent, DeliveryChoice, PickupCheck
from intake.hall.rules import broken_rule, conflict
from intake.models import Application
from servicekit.auth import forbidden
from servicekit.identity import Identity
from servicekit.problems import Problem, not_found

# Where a choice may still be made or changed: before the result, when it waits, after a failed delivery.
CHOOSABLE = ("accepted", "processing", "suspended", "ready", "delivery_failed")


def _hash_code(code: str, salt: bytes) -> str:
    digest = hashlib.scrypt(code.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


def _code_matches(code: str, stored: str | None) -> bool:
    if stored is None:
        return False
    _, salt, _digest = stored.split("$")
    return hmac.compare_digest(_hash_code(code, bytes.fromhex(salt)), stored)


async def hand_over(
    session: AsyncSession,
    journal: Journal,
    ctx: Context,
    application: Application,
    output: Output,
    now: datetime,
) -> None:
    """The result is ready: a fresh pickup code goes to the applicant, or the courier takes it."""
    output.updated_at = now
    if output.method == "pickup":
        code = f"{secrets.randbelow(10**6):06d}"  # only the event carries it, to the applicant
        output.code_hash, output.attempts, output.status = (
            _hash_code(code, secrets.token_bytes(16)),
            0,
            "ready",
        )
        output.pickup_place = ctx.options.pickup_place
        journal.move(
            application, "ready", now, "intake", detail={"method": "pickup", "place": output.pickup_place}
        )
        ready = OutputReady(
            application_id=application.id,
            case_number=application.case_number,
            department_code=application.department_code,
            pickup_code=code,
            pickup_place=output.pickup_place,
            ready_at=now,
        )
        journal.publish("intake.output.ready", application, ready)
        return
    assert output.recipient_name is not None
    assert output.recipient_phone is not None
    assert output.address is not None
    shipment = Shipment(
        application.case_number, output.recipient_name, output.recipient_phone, output.address
    )
    sent = await ctx.courier.dispatch(session, shipment)
    output.courier, output.tracking_number, output.status = sent.courier, sent.tracking_number, "dispatched"
    detail = {"method": "courier", "courier": sent.courier, "tracking_number": sent.tracking_number}
    journal.move(application, "dispatched", now, "intake", detail=detail)
    dispatched = OutputDispatched(
        application_id=application.id,
        case_number=application.case_number,
        department_code=application.department_code,
        courier=sent.courier,
        tracking_number=sent.tracking_number,
        dispatched_at=now,
    )
    journal.publish("intake.output.dispatched", application, dispatched)


async def choose(
    session: AsyncSession,
    journal: Journal,
    ctx: Context,
    identity: Identity,
    application: Application,
    choice: DeliveryChoice,
    now: datetime,
) -> Output:
    """The applicant (or a window for them) chooses; a ready result is handed over at once."""
    if identity.kind not in ("citizen", "operator") and not (identity.kind == "staff" and identity.window):
        raise forbidden("只有申请人或窗口可以选择出件方式 (the applicant or a window)")
    if application.status not in CHOOSABLE:
        raise conflict(
            "application_state",
            f"申请状态为 {application.status}，不能选择出件方式 (no result to hand over)",
            "status",
            "_or_".join(CHOOSABLE),
        )
    output = await session.get(Output, application.id, with_for_update=True)
    if output is None:
        output = Output(application_id=application.id, attempts=0, updated_at=now)
        session.add(output)
    output.method, output.status, output.updated_at = choice.method, "chosen", now
    output.recipient_name, output.recipient_phone, output.address = (
        choice.recipient_name,
        choice.recipient_phone,
        choice.address,
    )
    application.delivery_method = choice.method
    if application.status in ("ready", "delivery_failed"):
        await hand_over(session, journal, ctx, application, output, now)
    return output


def delivered(journal: Journal, application: Application, output: Output, now: datetime, actor: str) -> None:
    output.status, output.delivered_at, output.updated_at, output.handed_over_by = (
        "delivered",
        now,
        now,
        actor[:100],
    )
    application.delivered_at = now
    journal.move(application, "delivered", now, actor, detail={"method": output.method})
    done = OutputDelivered(
        application_id=application.id,
        case_number=application.case_number,
        department_code=application.department_code,
        item_id=application.item_id,
        method=output.method,
        delivered_at=now,
    )
    journal.publish("intake.output.delivered", application, done)


async def pick_up(
    session: AsyncSession, ctx: Context, identity: Identity, body: PickupCheck, now: datetime
) -> Output:
    """At the output window: the right code hands the result over; wrong codes count, then lock."""
    check_window(identity)
    wrong: Problem | None = None
    journal = Journal()
    async with session.begin():
        application = await session.scalar(
            sa.select(Application).where(Application.case_number == body.case_number).with_for_update()
        )
        output = (
            None if application is None else await session.get(Output, application.id, with_for_update=True)
        )
        if application is None or output is None or output.method != "pickup" or output.status != "ready":
            raise conflict(
                "not_ready_for_pickup", f"办件 {body.case_number} 没有待领取的结果", "case_number", "ready"
            )
        left = ctx.options.pickup_max_attempts - output.attempts
        if left <= 0:
            raise broken_rule(
                423, "pickup_locked", "取件码已锁定 Locked",
                "取件码错误次数过多，请申请人重新获取取件码 (too many wrong codes: issue a new one)",
                "pickup_code", "attempts",
            )  # fmt: skip
        if _code_matches(body.pickup_code, output.code_hash):
            delivered(journal, application, output, now, identity.client_id)
            await journal.write(session)
            return output
        output.attempts += 1  # committed: the count must survive the refusal
        journal.note(application.id, "pickup_refused", now, identity.client_id, reason="取件码错误")
        await journal.write(session)
        wrong = broken_rule(
            422, "pickup_code_wrong", "取件码错误 Wrong code",
            f"取件码错误，还可尝试{left - 1}次 ({left - 1} attempts left)", "pickup_code", "matches",
        )  # fmt: skip
    raise wrong


async def courier_event(session: AsyncSession, body: CourierEvent, now: datetime, actor: str) -> Application:
    """The courier's callback: in transit (noted), delivered, or failed (the applicant may then pick up)."""
    journal = Journal()
    async with session.begin():
        output = await session.scalar(
            sa.select(Output).where(Output.tracking_number == body.tracking_number).with_for_update()
        )
        if output is None:
            raise not_found("运单 shipment", body.tracking_number)
        application = await session.get(Application, output.application_id, with_for_update=True)
        assert application is not None
        if output.status != "dispatched":  # a repeated callback changes nothing
            return application
        if body.status == "in_transit":
            journal.note(application.id, "in_transit", now, actor, reason=body.note)
        elif body.status == "delivered":
            delivered(journal, application, output, now, actor)
        else:
            output.status, output.updated_at = "failed", now
            journal.move(application, "delivery_failed", now, actor, reason=body.note)
        await journal.write(session)
    return application
