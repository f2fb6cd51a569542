"""Events become messages on real PostgreSQL and SQLite: recipients, channels, dedupe, parking, failures."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.backoffice import TaskDecided, TaskSuspended
from contracts.datashare import EvidenceReleased
from contracts.envelope import Event, new_event
from contracts.intake import AppointmentBooked, TicketCalled, WaitingPosition
from messaging.tables import outbox
from notify.fanout import handle_event, make_messages
from notify.handlers import make_handlers
from notify.models import Alert, Message, ParkedEvent
from notify.preferences import subject_hash
from notify.recipients import resolve
from notify.schemas import ContactUpdate
from notify.service import save_contact
from notify.templates import Template, TemplateLibrary
from notify.triggers import Trigger

from .support import CASE, CITIZEN_ID, CONTACT, accepted

NOW = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)
HANDLERS = make_handlers(lambda: NOW)


async def deliver(sessions: async_sessionmaker[AsyncSession], event: Event) -> None:
    async with sessions() as session, session.begin():
        await HANDLERS[event.type](session, event)


async def messages(sessions: async_sessionmaker[AsyncSession]) -> list[Message]:
    async with sessions() as session:
        return list(await session.scalars(sa.select(Message).order_by(Message.template, Message.channel)))


async def with_contact(
    sessions: async_sessionmaker[AsyncSession], owner: str = CITIZEN_ID, **fields: object
) -> None:
    async with sessions() as session:
        await save_contact(session, owner, ContactUpdate.model_validate(CONTACT | fields), NOW)


async def test_an_accepted_application_makes_one_message_per_wanted_channel(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await with_contact(sessions, channels=["sms", "email"])
    event = accepted()
    await deliver(sessions, event)
    await deliver(sessions, event)  # the same event again (another path than the consumer's inbox)
    made = await messages(sessions)
    assert [(m.channel, m.status, m.template_version) for m in made] == [
        ("email", "created", 2),
        ("inbox", "delivered", 2),
        ("sms", "created", 2),
    ]
    sms = made[2]
    assert sms.body.startswith("【婺城政务服务】王建国您好")
    assert CASE in sms.body
    assert "承诺于2026年12月2日前办结" in sms.body
    assert sms.segments == 2
    assert sms.address == "13800579001"
    assert made[0].html is not None
    assert made[0].title == "申请已受理"


async def test_without_contacts_the_citizen_still_gets_the_inbox_message(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await deliver(sessions, accepted(promised_date=None))
    (only,) = await messages(sessions)
    assert (only.channel, only.status) == ("inbox", "delivered")
    assert "办理进度将及时告知您" in only.body


async def test_a_decision_before_its_case_is_parked_then_sent(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    decided = TaskDecided(
        application_id="app-0001",
        case_number=CASE,
        department_code="wc-mzj",
        decision="rejected",
        reason="申请人不符合年龄条件",
        decided_at=NOW,
    )
    event = new_event(type="backoffice.task.decided", source="/backoffice", subject="app-0001", data=decided)
    await deliver(sessions, event)
    assert await messages(sessions) == []
    await deliver(sessions, accepted())
    notices = {m.template: m.body for m in await messages(sessions)}
    assert "不予办理，理由：申请人不符合年龄条件。" in notices["decision"]
    async with sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(ParkedEvent)) == 0


async def test_data_access_reaches_the_subject_by_hash(sessions: async_sessionmaker[AsyncSession]) -> None:
    await with_contact(sessions, channels=["inbox"])
    released = EvidenceReleased(
        request_id="r1",
        certificate_type="hukou",
        subject_hash=subject_hash(CITIZEN_ID),
        consumer_code="wc-mzj",
        case_number="unknown-case-0001",
        released_at=NOW,
    )
    await deliver(
        sessions,
        new_event(type="datashare.evidence.released", source="/datashare", subject="h", data=released),
    )
    (notice,) = await messages(sessions)
    assert notice.recipient_id == CITIZEN_ID
    assert "调用了您的户口簿" in notice.body
    stranger = released.model_copy(update={"subject_hash": subject_hash("11010519491231002X")})
    await deliver(
        sessions,
        new_event(type="datashare.evidence.released", source="/datashare", subject="h", data=stranger),
    )
    assert len(await messages(sessions)) == 1  # nobody known to tell


async def test_turn_near_goes_once_to_each_waiting_citizen_in_the_first_three(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    def called(positions: list[tuple[str, int, str | None]]) -> Event:
        data = TicketCalled(
            ticket_id="t0", hall_id="h", queue_code="A", number="A001", window_code="A03", call_count=1,
            announcement="请A001号到A03号窗口办理", called_at=NOW,
            upcoming=[WaitingPosition(ticket_id=t, number=t.upper(), position=p, citizen_id=c) for t, p, c in positions],
        )  # fmt: skip
        return new_event(type="intake.ticket.called", source="/intake", subject="t0", data=data)

    await deliver(
        sessions, called([("a004", 3, CITIZEN_ID), ("a005", 4, "11010519491231002X"), ("a006", 2, None)])
    )
    await deliver(sessions, called([("a004", 2, CITIZEN_ID)]))
    (near,) = await messages(sessions)
    assert (near.recipient_id, near.subject, near.urgent) == (CITIZEN_ID, "a004", True)
    assert "排队号A004即将叫号（当前排第3位）" in near.body


async def test_an_appointment_reminder_waits_for_the_eve_and_a_cancellation_withdraws_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await with_contact(sessions, channels=["sms"])
    booking = AppointmentBooked(
        appointment_id="ap1", hall_id="h", queue_code="A", item_id="wc-mzj-lnyd", citizen_id=CITIZEN_ID,
        slot_date=date(2026, 12, 1), start_time="09:30", at=NOW,
    )  # fmt: skip
    await deliver(
        sessions, new_event(type="intake.appointment.booked", source="/intake", subject="ap1", data=booking)
    )
    sms = next(m for m in await messages(sessions) if m.channel == "sms")
    assert sms.next_attempt_at == datetime(2026, 11, 30, 1, 30, tzinfo=UTC)  # 09:30 Beijing, a day before
    assert "12月1日 09:30" in sms.body
    await deliver(
        sessions,
        new_event(type="intake.appointment.cancelled", source="/intake", subject="ap1", data=booking),
    )
    assert {m.status for m in await messages(sessions)} == {"cancelled"}


async def test_a_broken_template_fails_the_message_with_its_reason_and_alerts(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    library = TemplateLibrary([Template("bad", 1, title="t", text="{no_such_field}", sms="{no_such_field}")])
    trigger = Trigger("intake.application.accepted", "bad", "applicant_id", channels=("inbox",))
    unknown = Trigger("intake.application.accepted", "never_written", "applicant_id", channels=("inbox",))
    event = accepted()
    async with sessions() as session, session.begin():
        data = event.data | {"accepted_at": NOW}
        to = await resolve(session, trigger, data)
        assert to is not None
        await make_messages(session, event, trigger, to, data, NOW, library)
        await make_messages(session, event, unknown, to, data, NOW, library)
    made = await messages(sessions)
    assert [(m.template, m.status) for m in made] == [
        ("bad", "technical-failure"),
        ("never_written", "technical-failure"),
    ]
    assert "缺少个性化字段" in (made[0].reason or "")
    assert "no_such_field" in (made[0].reason or "")
    assert "模板不存在" in (made[1].reason or "")
    async with sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Alert)) == 2
        types = list(await session.scalars(sa.select(outbox.c.event_type)))
    assert types.count("notify.alert.raised") == 2
    assert types.count("notify.message.status_changed") == 2


async def test_an_event_without_what_its_trigger_needs_goes_to_the_dlq(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    broken = new_event(
        type="backoffice.task.suspended",
        source="/backoffice",
        subject="x",
        data=accepted_data_of_suspension(),
    )
    broken = broken.model_copy(update={"data": {k: v for k, v in broken.data.items() if k != "kind"}})
    async with sessions() as session, session.begin():
        with pytest.raises(ValidationError):
            await handle_event(session, broken, NOW)
    ready = new_event(
        type="backoffice.task.suspended", source="/b", subject="x", data=accepted_data_of_suspension()
    )
    ready = ready.model_copy(update={"type": "intake.output.ready", "data": {"nothing": "useful"}})
    async with sessions() as session, session.begin():
        with pytest.raises(ValidationError):  # the consumer dead-letters it with the reason
            await handle_event(session, ready, NOW)
    async with sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


def accepted_data_of_suspension() -> TaskSuspended:
    return TaskSuspended(
        task_id="t1", application_id="a1", case_number=CASE, department_code="wc-mzj", applicant_id=CITIZEN_ID,
        kind="buzheng", reason="照片不清晰", materials=["近期一寸免冠照片"], due_date=date(2026, 12, 9),
        suspended_on=date(2026, 11, 25),
    )  # fmt: skip


async def test_a_buzheng_request_tells_the_applicant_what_and_by_when(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    event = new_event(
        type="backoffice.task.suspended", source="/b", subject="a1", data=accepted_data_of_suspension()
    )
    await deliver(sessions, event)
    reminder, notice = await messages(sessions)  # by template name
    assert notice.template == "buzheng_requested"
    assert "近期一寸免冠照片" in notice.body
    assert "2026年12月9日前提交" in notice.body
    assert (reminder.template, reminder.status) == ("buzheng_reminder", "created")
