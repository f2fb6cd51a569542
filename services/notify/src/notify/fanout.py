"""Turns one event into messages: finds the recipient, renders each channel, writes `message` rows.

Runs inside the consumer's transaction and sends nothing: the dispatcher does that later.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime
from functools import cache
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import Event
from contracts.registry import REGISTRY
from messaging.consumer import PermanentError
from notify.channels import CANCELLED, DELIVERED, TECHNICAL_FAILURE
from notify.clock import LOCAL_TZ
from notify.lifecycle import raise_alert, status_event, write_events
from notify.models import Message, ParkedEvent
from notify.recipients import Park, Recipient, resolve
from notify.template_library import LIBRARY
from notify.templates import Template, TemplateError, TemplateLibrary, render
from notify.triggers import Trigger, triggers_for

log = logging.getLogger(__name__)
_MESSAGE = cast(sa.Table, Message.__table__)


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return f"{value.astimezone(LOCAL_TZ):%Y年%-m月%-d日 %H:%M}"
    if isinstance(value, date):
        return f"{value:%Y年%-m月%-d日}"
    if isinstance(value, list | tuple):
        return "、".join(_text(v) for v in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


@cache
def _insert_statement(dialect: str) -> sa.Insert:
    """Insert unless (event, template, channel, recipient) exists: a replayed event makes nothing twice.

    Rows go as parameters, not in the statement: one cached statement ("insertmanyvalues" batches it).
    """
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(_MESSAGE).on_conflict_do_nothing().returning(_MESSAGE.c.id)


async def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> set[str]:
    if not rows:
        return set()
    stmt = _insert_statement(session.get_bind().dialect.name)
    return set((await session.scalars(stmt, rows)).all())


def _row(
    event: Event, trigger: Trigger, to: Recipient, channel: str, about: str, now: datetime
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex,
        "event_id": event.id,
        "event_type": event.type,
        "template": trigger.template,
        "template_version": 0,
        "channel": channel,
        "recipient_id": to.owner_id,
        "address": None if channel == "inbox" or to.contact is None else to.contact.address(channel),
        "case_number": None,
        "subject": about,
        "urgent": trigger.urgent,
        "attempts": 0,
        "created_at": now,
        "title": None,
        "body": "",
        "html": None,
        "segments": None,
        "status": "created",
        "reason": None,
        "next_attempt_at": None,
        "completed_at": None,
    }


async def make_messages(
    session: AsyncSession,
    event: Event,
    trigger: Trigger,
    to: Recipient,
    data: dict[str, Any],
    now: datetime,
    library: TemplateLibrary = LIBRARY,
) -> int:
    about = str(data[trigger.about]) if trigger.about else event.subject
    if trigger.once and await session.scalar(
        sa.select(Message.id).where(
            Message.template == trigger.template,
            Message.subject == about,
            Message.recipient_id == to.owner_id,
        )
    ):
        return 0
    template: Template | TemplateError
    try:
        template = library.latest(trigger.template)
    except TemplateError as exc:
        template = exc  # every channel's message fails with it
    needed = template.fields() if isinstance(template, Template) else frozenset()
    # Only the fields the template names are formatted (events carry far more than a message says).
    values = (
        {k: _text(data[k]) for k in needed if data.get(k) is not None} | to.context | trigger.derive(data)
    )
    due = max(now, trigger.send_at(data)) if trigger.send_at is not None else now
    rows: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for channel in trigger.channels:
        row = _row(event, trigger, to, channel, about, now)
        if (channel == "inbox" and not to.citizen) or (channel != "inbox" and row["address"] is None):
            continue
        row["case_number"] = data.get("case_number")
        try:
            if isinstance(template, TemplateError):
                raise template
            rendered = render(template, channel, values)
        except TemplateError as exc:
            failed.append(row | {"status": TECHNICAL_FAILURE, "reason": str(exc), "completed_at": now})
            continue
        row |= {
            "template_version": template.version,
            "title": rendered.title,
            "body": rendered.body,
            "html": rendered.html,
            "segments": rendered.segments,
        }
        # The in-app inbox is our own store: the message is delivered once it is written.
        if channel == "inbox" and due <= now:
            row |= {"status": DELIVERED, "completed_at": now}
        else:
            row["next_attempt_at"] = due
        rows.append(row)
    made = await _insert(session, rows + failed)
    events: list[Event] = []
    for row in failed:
        if row["id"] in made:
            events.append(status_event(Message(**row), now))
    if events:
        raise_alert(session, "template_error", str(failed[0]["reason"]), failed[0]["id"], now, events)
    await write_events(session, events)
    return len(made) - len(failed)


async def cancel_messages(
    session: AsyncSession, trigger: Trigger, data: dict[str, Any], event: Event
) -> None:
    about = str(data[trigger.about]) if trigger.about else event.subject
    await session.execute(
        sa.update(Message)
        .where(Message.template == trigger.template, Message.subject == about, Message.status == "created")
        .values(status=CANCELLED, next_attempt_at=None, reason="事由已取消 (withdrawn by a later event)")
    )


def _entries(trigger: Trigger, data: dict[str, Any]) -> list[dict[str, Any]]:
    if trigger.each is None:
        return [data]
    return [data | dict(entry) for entry in data.get(trigger.each) or []]


def event_data(event: Event) -> dict[str, Any]:
    """The event's data as its contract model reads it (dates as dates); a bad one raises."""
    spec = REGISTRY.get(event.type)
    return spec.model.model_validate(event.data).model_dump() if spec else dict(event.data)


async def handle_event(
    session: AsyncSession, event: Event, now: datetime, data: dict[str, Any] | None = None
) -> int:
    """Every trigger of `event.type` (`data`: the event's data, when the caller has read it already);
    returns how many messages were made."""
    data = event_data(event) if data is None else data
    made = 0
    for trigger in triggers_for(event.type):
        for entry in _entries(trigger, data):
            try:
                if trigger.cancels:
                    await cancel_messages(session, trigger, entry, event)
                    continue
                if not trigger.when(entry):
                    continue
                to = await resolve(session, trigger, entry)
            except Park as park:
                parked = ParkedEvent(
                    event_id=event.id,
                    case_number=park.args[0],
                    envelope=event.model_dump(mode="json"),
                    parked_at=now,
                )
                session.add(parked)
                return made
            except (KeyError, TypeError, ValueError) as exc:
                raise PermanentError(
                    f"{event.type} lacks what trigger {trigger.template} needs: {exc!r}"
                ) from exc
            if to is None:
                log.info("no recipient known for %s (%s)", event.id, trigger.template)
                continue
            made += await make_messages(session, event, trigger, to, entry, now)
    return made
