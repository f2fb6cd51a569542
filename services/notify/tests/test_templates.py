"""Templates, triggers and preferences as plain functions: rendering rules, segments, quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from notify.channels.push import signature, verify
from notify.clock import LOCAL_TZ
from notify.preferences import InvalidContact, normalise_email, normalise_mobile, quiet_until
from notify.template_library import LIBRARY
from notify.templates import (
    SMS_SIGNATURE,
    MissingPersonalisation,
    Template,
    UnknownTemplate,
    render,
    sms_segments,
)
from notify.triggers import TRIGGERS

ACCEPTED = {
    "applicant_name": "王建国",
    "item_name": "老年人优待证办理",
    "accepted_at": "2026年11月25日 10:30",
    "case_number": "2026112500001",
    "promised": "承诺于2026年12月2日前办结",
}


def test_sms_is_signed_and_counts_segments_of_70_then_67() -> None:
    rendered = render(LIBRARY.latest("application_accepted"), "sms", ACCEPTED)
    assert rendered.body.startswith(SMS_SIGNATURE)
    assert "2026112500001" in rendered.body
    assert rendered.segments == sms_segments(rendered.body)
    assert [sms_segments("婺" * n) for n in (1, 70, 71, 134, 135)] == [1, 1, 2, 2, 3]
    assert sms_segments("😀" * 35) == 1  # outside the BMP: two UTF-16 units each
    assert sms_segments("😀" * 36) == 2


def test_a_message_records_the_latest_version_and_old_versions_stay_readable() -> None:
    assert LIBRARY.latest("application_accepted").version == 2
    assert LIBRARY.get("application_accepted", 1).fields() == {"item", "case_number"}
    with pytest.raises(UnknownTemplate):
        LIBRARY.get("application_accepted", 9)
    with pytest.raises(UnknownTemplate):
        LIBRARY.latest("no_such_template")


def test_a_missing_field_is_an_error_not_an_empty_string() -> None:
    values = {k: v for k, v in ACCEPTED.items() if k != "promised"}
    with pytest.raises(MissingPersonalisation) as caught:
        render(LIBRARY.latest("application_accepted"), "inbox", values)
    assert caught.value.fields == ["promised"]


def test_email_has_a_subject_text_and_escaped_html() -> None:
    template = Template("t", 1, title="关于{case_number}", text="您好{name}\n第二行", sms="{name}")
    rendered = render(template, "email", {"case_number": "A1", "name": "<b>王</b>"})
    assert rendered.title == "关于A1"
    assert rendered.body.startswith("您好<b>王</b>\n第二行")
    assert rendered.html is not None
    assert "&lt;b&gt;王&lt;/b&gt;" in rendered.html
    assert "<b>王" not in rendered.html
    assert "<p>第二行</p>" in rendered.html


def test_every_trigger_names_a_template_and_the_live_ones_are_registered_events() -> None:
    for trigger in TRIGGERS:
        LIBRARY.latest(trigger.template)
    live = sorted({t.event_type for t in TRIGGERS if t.live})
    assert live == [
        "backoffice.followup.opened",
        "backoffice.task.deadline_warned",
        "backoffice.task.decided",
        "backoffice.task.escalated",
        "backoffice.task.resumed",
        "backoffice.task.suspended",
        "datashare.evidence.released",
        "intake.application.accepted",
        "intake.application.refused",
        "intake.application.returned",
        "intake.application.terminated",
        "intake.appointment.booked",
        "intake.appointment.cancelled",
        "intake.output.delivered",
        "intake.output.dispatched",
        "intake.output.ready",
        "intake.rongque.deadline_warned",
        "intake.ticket.called",
        "intake.ticket.cancelled",
        "intake.ticket.missed",
    ]
    assert all(t.live for t in TRIGGERS)


@pytest.mark.parametrize(
    ("raw", "expected"), [("13800579001", "13800579001"), ("+86 138-0057-9001", "13800579001")]
)
def test_mainland_mobiles_are_normalised(raw: str, expected: str) -> None:
    assert normalise_mobile(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "+1 202 555 0100", "057982469001", "not a phone"])
def test_other_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidContact):
        normalise_mobile(raw)


def test_emails_are_checked_for_syntax() -> None:
    assert normalise_email("Wang.JianGuo@Example.COM") == "Wang.JianGuo@example.com"
    for bad in ("wang@", "wang at example.com", "a@b@c.com"):
        with pytest.raises(InvalidContact):
            normalise_email(bad)


def test_quiet_hours_are_local_time_and_end_at_eight() -> None:
    def at(day: int, hour: int, minute: int = 0) -> datetime:  # Beijing time, given in UTC
        return datetime(2026, 11, day, hour, minute, tzinfo=LOCAL_TZ).astimezone(UTC)

    assert quiet_until(at(25, 21, 59)) is None
    assert quiet_until(at(25, 8)) is None
    assert str(quiet_until(at(25, 22, 30))) == "2026-11-26 08:00:00+08:00"
    assert str(quiet_until(at(26, 7, 59))) == "2026-11-26 08:00:00+08:00"
    assert quiet_until(at(25, 13), time(12), time(14)) is not None


def test_push_signatures_cover_body_and_timestamp_within_the_replay_window() -> None:
    body = b'{"message_id":"m1"}'
    sig = signature(b"k", "1000", body)
    assert verify(b"k", "1000", body, sig, now=1100)
    assert not verify(b"k", "1000", body + b" ", sig, now=1100)
    assert not verify(b"k", "1001", body, sig, now=1100)
    assert not verify(b"k", "1000", body, sig, now=1000 + 301)  # replayed too late
    assert not verify(b"other", "1000", body, sig, now=1100)
    assert not verify(b"k", "soon", body, sig, now=1100)
