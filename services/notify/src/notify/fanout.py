"""Turns one event into messages: finds the recipient, renders each channel, writes `message` rows.

Runs inside the consumer's transaction and sends nothing: the dispatcher does that later.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime
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
from notify.models import CaseRecipient, Contact, ItemName, Message, ParkedEvent
from notify.preferences import subject_hash
from notify.template_library import LIBRARY
from notify.templates import TemplateError, TemplateLibrary, render
from notify.triggers import Trigger, triggers_for

log = logging.getLogger(__name__)


class Park(Exception):
    """The case this event is about is not known yet (its 受理 event has not been handled)."""


@dataclass(frozen=True)
class Recipient:
    owner_id: str
    citizen: bool
    contact: Contact | None
    context: dict[str, str]


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


async def _case_context(
    session: AsyncSession, trigger: Trigger, data: dict[str, Any]
) -> tuple[CaseRecipient | None, dict[str, str]]:
    # The 受理 event itself carries what the case read model would give: one query saved per event.
    needed = trigger.to in ("case", "subject") or not ("applicant_name" in data and data.get("item_id"))
    case = (
        await session.get(CaseRecipient, data["case_number"]) if needed and data.get("case_number") else None
    )
    context: dict[str, str] = {}
    if case is not None:
        context["applicant_name"] = case.applicant_name
    item_id = data.get("item_id") or (case.item_id if case is not None else None)
    if item_id:
        item = await session.get(ItemName, item_id)
        context["item_name"] = item.name if item is not None else str(item_id)
    return case, context


async def resolve(session: AsyncSession, trigger: Trigger, data: dict[str, Any]) -> Recipient | None:
    case, context = await _case_context(session, trigger, data)
    if trigger.to == "department":
        owner = f"dept:{data['department_code']}"
        return Recipient(owner, False, await session.get(Contact, owner), context)
    if trigger.to == "case":
        if case is None:
            raise Park(str(data["case_number"]))
        owner = case.applicant_id
    elif trigger.to == "subject":
        wanted = str(data["subject_hash"])
        if case is not None and subject_hash(case.applicant_id) == wanted:
            owner = case.applicant_id
        else:
            found = await session.scalar(sa.select(Contact.owner_id).where(Contact.subject_hash == wanted))
            if found is None:
                return None
            owner = found
    else:
        if data[trigger.to] is None:  # e.g. a hall ticket taken without an ID card
            return None
        owner = str(data[trigger.to]).upper()
    contact = await session.get(Contact, owner)
    if contact is not None and contact.name and "applicant_name" not in context:
        context["applicant_name"] = contact.name
    return Recipient(owner, True, contact, context)


def _address(contact: Contact | None, channel: str) -> str | None:
    if contact is None or channel not in contact.channels:
        return None
    return {"sms": contact.phone, "email": contact.email, "push": contact.push_id}.get(channel)


async def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> set[str]:
    """Insert unless (event, template, channel, recipient) exists: a replayed event makes nothing twice."""
    if not rows:
        return set()
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = cast(sa.Table, Message.__table__)
    # Rows as parameters, not in the statement: one cached statement ("insertmanyvalues" batches it).
    stmt = insert(table).on_conflict_do_nothing().returning(table.c.id)
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
        "address": None if channel == "inbox" else _address(to.contact, channel),
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
    values = {k: _text(v) for k, v in data.items() if v is not None} | to.context | trigger.derive(data)
    due = max(now, trigger.send_at(data)) if trigger.send_at is not None else now
    rows: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for channel in trigger.channels:
        row = _row(event, trigger, to, channel, about, now)
        if (channel == "inbox" and not to.citizen) or (channel != "inbox" and row["address"] is None):
            continue
        row["case_number"] = data.get("case_number")
        try:
            template = library.latest(trigger.template)
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


async def handle_event(session: AsyncSession, event: Event, now: datetime) -> int:
    """Every trigger of `event.type`; returns how many messages were made."""
    spec = REGISTRY.get(event.type)
    data: dict[str, Any] = spec.model.model_validate(event.data).model_dump() if spec else dict(event.data)
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
