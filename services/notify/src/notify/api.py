"""Notify HTTP routes: citizens' inbox and contacts (notify:read), operators' views (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from notify import service
from notify.clock import Clock
from notify.models import Contact, Message
from notify.schemas import (
    AlertPublic,
    ContactPublic,
    ContactUpdate,
    DeadLetterPublic,
    InboxPage,
    MessageDetail,
    MessagePublic,
    TemplatePublic,
    TriggerPublic,
)
from notify.template_library import LIBRARY
from notify.triggers import TRIGGERS
from servicekit.auth import requires
from servicekit.deps import SessionDep
from servicekit.identity import Identity
from servicekit.masking import mask_id, mask_phone

router = APIRouter(tags=["notify"])
Citizen = Annotated[Identity, Depends(requires("notify:read"))]
Operator = Annotated[Identity, Depends(requires("admin"))]
MessageId = Annotated[str, Path(min_length=1, max_length=40)]
Limit = Annotated[int, Query(ge=1, le=200)]


def _now(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def _mask_address(message: Message) -> str | None:
    if message.address is None or message.channel not in ("sms", "email"):
        return message.address
    return mask_phone(message.address) if message.channel == "sms" else mask_email(message.address)


@router.get("/messages", response_model=list[MessagePublic], summary="Messages about one case")
async def messages_for_case(
    session: SessionDep, identity: Citizen, case_number: Annotated[str, Query(min_length=10, max_length=50)]
) -> list[MessagePublic]:
    messages = await service.messages_for_case(session, identity, case_number)
    return [MessagePublic.model_validate(m) for m in messages]


@router.get("/inbox", response_model=InboxPage, summary="The citizen's in-app messages, newest first")
async def list_inbox(
    session: SessionDep,
    identity: Citizen,
    unread_only: bool = False,
    limit: Limit = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> InboxPage:
    items, total, unread = await service.inbox(session, identity, unread_only, limit, offset)
    return InboxPage(total=total, unread=unread, items=[MessagePublic.model_validate(m) for m in items])


@router.post("/inbox/{message_id}/read", response_model=MessagePublic, summary="Mark an inbox message read")
async def mark_read(
    message_id: MessageId, session: SessionDep, identity: Citizen, request: Request
) -> MessagePublic:
    return MessagePublic.model_validate(
        await service.mark_read(session, identity, message_id, _now(request)())
    )


def _contact_public(contact: Contact) -> ContactPublic:
    return ContactPublic(
        owner_id=contact.owner_id if contact.owner_id.startswith("dept:") else mask_id(contact.owner_id),
        name=contact.name,
        phone=mask_phone(contact.phone) if contact.phone else None,
        email=mask_email(contact.email) if contact.email else None,
        push_id=contact.push_id,
        channels=contact.channels,
        quiet_start=contact.quiet_start,
        quiet_end=contact.quiet_end,
        updated_at=contact.updated_at,
    )


@router.get("/contacts/me", response_model=ContactPublic, summary="The caller's own contact details")
async def my_contact(session: SessionDep, identity: Citizen) -> ContactPublic:
    return _contact_public(await service.get_contact(session, service.citizen_of(identity)))


@router.put("/contacts/me", response_model=ContactPublic, summary="The app registers its user's contacts")
async def save_my_contact(
    body: ContactUpdate, session: SessionDep, identity: Citizen, request: Request
) -> ContactPublic:
    owner = service.citizen_of(identity)
    return _contact_public(await service.save_contact(session, owner, body, _now(request)()))


@router.put(
    "/contacts/{owner_id}",
    response_model=ContactPublic,
    summary="Register a citizen's or department's contacts",
)
async def save_contact(
    owner_id: Annotated[str, Path(min_length=1, max_length=40)],
    body: ContactUpdate,
    session: SessionDep,
    _operator: Operator,
    request: Request,
) -> ContactPublic:
    owner = service.check_owner(owner_id)
    return _contact_public(await service.save_contact(session, owner, body, _now(request)()))


@router.get("/messages/{message_id}", response_model=MessageDetail, summary="One message's delivery record")
async def get_message(message_id: MessageId, session: SessionDep, _operator: Operator) -> MessageDetail:
    message = await service.get_message(session, message_id)
    detail = MessagePublic.model_validate(message).model_dump()
    return MessageDetail(
        **detail,
        event_id=message.event_id,
        event_type=message.event_type,
        recipient=message.recipient_id
        if message.recipient_id.startswith("dept:")
        else mask_id(message.recipient_id),
        address=_mask_address(message),
        segments=message.segments,
        urgent=message.urgent,
        provider=message.provider,
        provider_reference=message.provider_reference,
        attempts=message.attempts,
        next_attempt_at=message.next_attempt_at,
        sent_at=message.sent_at,
    )


@router.get("/dead-letters", response_model=list[DeadLetterPublic], summary="Messages whose retries ran out")
async def list_dead_letters(
    session: SessionDep, _operator: Operator, pending_only: bool = True, limit: Limit = 50
) -> list[DeadLetterPublic]:
    return [
        DeadLetterPublic.model_validate(d) for d in await service.dead_letters(session, pending_only, limit)
    ]


@router.post(
    "/dead-letters/{dead_letter_id}/redrive", response_model=DeadLetterPublic, summary="Send it again"
)
async def redrive(
    dead_letter_id: MessageId, session: SessionDep, _operator: Operator, request: Request
) -> DeadLetterPublic:
    return DeadLetterPublic.model_validate(await service.redrive(session, dead_letter_id, _now(request)()))


@router.get("/alerts", response_model=list[AlertPublic], summary="Alerts for operators, newest first")
async def list_alerts(session: SessionDep, _operator: Operator, limit: Limit = 50) -> list[AlertPublic]:
    return [AlertPublic.model_validate(a) for a in await service.alerts(session, limit)]


@router.get("/templates", response_model=list[TemplatePublic], summary="Every version of every template")
async def list_templates(_operator: Operator) -> list[TemplatePublic]:
    return [
        TemplatePublic(
            name=t.name,
            version=t.version,
            latest=LIBRARY.latest(t.name).version == t.version,
            title=t.title,
            text=t.text,
            sms=t.sms,
            fields=sorted(t.fields()),
        )
        for t in LIBRARY.all()
    ]


@router.get("/triggers", response_model=list[TriggerPublic], summary="Which event makes which message")
async def list_triggers(_operator: Operator) -> list[TriggerPublic]:
    return [
        TriggerPublic(
            event_type=t.event_type,
            template=t.template,
            recipient=t.to,
            live=t.live,
            urgent=t.urgent,
            channels=list(t.channels),
        )
        for t in TRIGGERS
    ]
