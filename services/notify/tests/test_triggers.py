"""Intake's outcome events, 补正 reminders and terminations, and datashare's subject hash, each as the
producer's own contract model writes it, to the message the applicant reads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.backoffice import TaskDecided, TaskResumed, TaskSuspended
from contracts.envelope import Event, EventData, new_event
from contracts.intake import (
    ApplicationRefused,
    ApplicationReturned,
    ApplicationTerminated,
    OutputDelivered,
    OutputDispatched,
    OutputReady,
    RongqueDeadlineWarned,
)
from notify.dispatcher import Dispatcher
from notify.handlers import make_handlers
from notify.models import Message
from notify.preferences import subject_hash
from notify.schemas import ContactUpdate
from notify.service import save_contact

from .support import CASE, CITIZEN_ID, CONTACT, accepted

NOW = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)
HANDLERS = make_handlers(lambda: NOW)
APP = "app-0001"  # accepted()'s application id for CASE
WHO = {"department_code": "wc-mzj", "applicant_id": CITIZEN_ID}
CLOSED = {
    "application_id": APP, "case_number": CASE, "item_id": "wc-mzj-lnyd", "item_version": 1, "applicant_kind": "person",
    "applicant_name": "王建国", "at": NOW, **WHO,
}  # fmt: skip


def event(event_type: str, data: EventData, subject: str = APP) -> Event:
    return new_event(type=event_type, source="/test", subject=subject, data=data)


async def deliver(sessions: async_sessionmaker[AsyncSession], *events: Event) -> None:
    for each in events:
        async with sessions() as session, session.begin():
            await HANDLERS[each.type](session, each)


async def inbox(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Message]:
    async with sessions() as session:
        rows = await session.scalars(sa.select(Message).where(Message.channel == "inbox"))
        return {m.template: m for m in rows}


async def test_intakes_outcome_events_reach_the_applicant(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        await save_contact(
            session, CITIZEN_ID, ContactUpdate.model_validate(CONTACT | {"channels": ["sms"]}), NOW
        )
    ready = OutputReady(
        application_id=APP, case_number=CASE, department_code="wc-mzj", pickup_code="482913",
        pickup_place="婺城区政务服务中心一楼统一出件窗口", ready_at=NOW,
    )  # fmt: skip
    dispatched = OutputDispatched(
        application_id=APP, case_number=CASE, department_code="wc-mzj", courier="中国邮政EMS",
        tracking_number="1189203344551", dispatched_at=NOW,
    )  # fmt: skip
    delivered = OutputDelivered(
        application_id=APP, case_number=CASE, department_code="wc-mzj", item_id="wc-mzj-lnyd",
        method="courier", delivered_at=NOW,
    )  # fmt: skip
    warned = RongqueDeadlineWarned(
        application_id=APP, case_number=CASE, item_id="wc-mzj-lnyd", materials=["户口簿"],
        due_date=date(2026, 11, 27), warned_on=date(2026, 11, 26), **WHO,
    )  # fmt: skip
    # The output events name the case only: they wait (parked) for the 受理 event, as a decision does.
    await deliver(sessions, event("intake.output.ready", ready))
    assert await inbox(sessions) == {}
    await deliver(sessions, accepted(), event("intake.output.dispatched", dispatched))
    await deliver(sessions, event("intake.output.delivered", delivered))
    await deliver(sessions, event("intake.rongque.deadline_warned", warned))
    got = await inbox(sessions)
    assert "取件码482913" in got["result_ready"].body
    assert "一楼统一出件窗口" in got["result_ready"].body
    assert "中国邮政EMS寄出，运单号1189203344551" in got["courier_dispatched"].body
    assert "好差评" in got["rating_invitation"].body
    assert "请于2026年11月27日前补交：户口簿" in got["rongque_deadline"].body
    async with sessions() as session:
        sms = await session.scalar(
            sa.select(Message).where(Message.channel == "sms", Message.template == "result_ready")
        )
    assert sms is not None
    assert sms.body.startswith("【婺城政务服务】")
    assert "482913" in sms.body


async def test_intake_closing_an_application_tells_the_applicant_why(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    returned = ApplicationReturned(**CLOSED, materials=["身份证复印件", "户口簿"], reason="材料不齐")
    refused = ApplicationRefused(
        **CLOSED, reason="不属于本部门职权范围", appeal_rights="可在六十日内申请行政复议。"
    )
    terminated = ApplicationTerminated(
        application_id=APP, case_number=CASE, materials=["户口簿"], due_date=date(2026, 12, 2),
        terminated_at=NOW, **WHO,
    )  # fmt: skip
    await deliver(
        sessions,
        event("intake.application.returned", returned),
        event("intake.application.refused", refused),
        event("intake.application.terminated", terminated),
    )
    got = await inbox(sessions)
    assert "尚需以下材料：身份证复印件、户口簿" in got["one_time_notice"].body
    assert "不予受理" in got["application_refused"].body
    assert "六十日内申请行政复议" in got["application_refused"].body
    assert "未在2026年12月2日前补交户口簿，已终止办理" in got["rongque_terminated"].body
    assert {m.recipient_id for m in got.values()} == {CITIZEN_ID}


def suspended(due: date, on: date = date(2026, 11, 25)) -> Event:
    data = TaskSuspended(
        task_id="t1", application_id=APP, case_number=CASE, kind="buzheng", reason="照片不清晰",
        materials=["近期一寸免冠照片"], due_date=due, suspended_on=on, **WHO,
    )  # fmt: skip
    return event("backoffice.task.suspended", data)


async def test_a_buzheng_reminder_goes_the_morning_before_its_due_date_unless_supplied(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await deliver(sessions, accepted(), suspended(date(2026, 12, 9)))
    reminder = (await inbox(sessions))["buzheng_reminder"]
    # 09:00 in Wucheng on 12-08; the in-app copy waits like the SMS would.
    assert (reminder.status, reminder.next_attempt_at) == ("created", datetime(2026, 12, 8, 1, 0, tzinfo=UTC))
    assert "逾期未补正的，办件将终止办理" in reminder.body
    clock = {"now": datetime(2026, 12, 8, 0, 59, tzinfo=UTC)}
    dispatcher = Dispatcher(sessions, {}, clock=lambda: clock["now"])
    await dispatcher.run_once()
    assert (await inbox(sessions))["buzheng_reminder"].status == "created"
    clock["now"] += timedelta(minutes=1)
    await dispatcher.run_once()
    assert (await inbox(sessions))["buzheng_reminder"].status == "delivered"

    # Supplied before the reminder was due: it is withdrawn.
    resumed = TaskResumed(
        task_id="t1", application_id=APP, case_number=CASE, department_code="wc-mzj",
        resumed_on=date(2026, 12, 1), suspended_days=4, deadline_date=date(2026, 12, 10),
    )  # fmt: skip
    await deliver(sessions, suspended(date(2026, 12, 20), on=date(2026, 12, 9)))
    await deliver(sessions, event("backoffice.task.resumed", resumed))
    async with sessions() as session:
        statuses = list(
            await session.scalars(
                sa.select(Message.status)
                .where(Message.template == "buzheng_reminder")
                .order_by(Message.created_at)
            )
        )
    assert statuses == ["delivered", "cancelled"]
    # Due tomorrow: the notice itself is the reminder.
    await deliver(sessions, suspended(date(2026, 11, 26)))
    async with sessions() as session:
        count = await session.scalar(sa.select(sa.func.count()).where(Message.template == "buzheng_reminder"))
    assert count == 2


async def test_a_terminated_case_tells_the_applicant_why_and_withdraws_the_reminder(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await deliver(sessions, accepted(), suspended(date(2026, 12, 9)))
    terminated = TaskDecided(
        application_id=APP, case_number=CASE, department_code="wc-mzj", decision="terminated",
        reason="申请人未在2026年12月9日前补正近期一寸免冠照片，依法终止办理",
        appeal_rights="如不服本决定，可以申请行政复议。", decided_at=NOW,
    )  # fmt: skip
    await deliver(sessions, event("backoffice.task.decided", terminated))
    got = await inbox(sessions)
    assert "decision" not in got
    assert "已终止办理，原因：申请人未在2026年12月9日前补正近期一寸免冠照片" in got["case_terminated"].body
    assert "申请行政复议" in got["case_terminated"].body
    assert got["buzheng_reminder"].status == "cancelled"


def test_the_subject_hash_is_the_one_datashare_publishes() -> None:
    """datashare.subjects.subject_hash: SHA-256 hex of the stripped, upper-case number; these are
    the digests of the two numbers as `sha256sum` prints them."""
    assert subject_hash(CITIZEN_ID) == "65f022d7c0057fede5089406e12a54c8965799a66387db3f1f56dcd93e240bfc"
    digest = "426695a0efdb59b9eaedaf0b5ca3eddf013cc2a7f9e283437704ea605f421e6d"
    assert subject_hash("11010519491231002X") == digest
    assert subject_hash(" 11010519491231002x ") == digest
