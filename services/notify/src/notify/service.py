"""Notify use cases behind the API; each opens exactly one transaction."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import sqlalchemy as sa
from govcodes.idnumber import InvalidIdNumber, validate_id_number
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import Event
from notify.channels import SENDING
from notify.channels.kannel import dlr_outcome
from notify.lifecycle import RetryPolicy, apply_outcome, write_events
from notify.models import Alert, Contact, DeadLetter, Message
from notify.preferences import InvalidContact, normalise_email, normalise_mobile, subject_hash
from notify.schemas import ContactUpdate
from servicekit.auth import forbidden
from servicekit.identity import Identity
from servicekit.problems import Problem, not_found


def invalid(field: str, rule: str, message: str) -> Problem:
    return Problem(
        422,
        "validation_failed",
        "请求参数有误 Invalid request",
        message,
        errors=[{"field": field, "rule": rule, "message": message}],
    )


async def messages_for_case(session: AsyncSession, identity: Identity, case_number: str) -> list[Message]:
    """A citizen sees only messages addressed to them; operators see all."""
    query = sa.select(Message).where(Message.case_number == case_number)
    if identity.kind != "operator":
        query = query.where(Message.recipient_id == (identity.citizen_id or ""))
    return list(await session.scalars(query.order_by(Message.created_at, Message.channel)))


def citizen_of(identity: Identity) -> str:
    if identity.kind != "citizen" or not identity.citizen_id:
        raise forbidden("仅限市民本人 (citizens only: the inbox belongs to one person)")
    return identity.citizen_id.upper()


async def inbox(
    session: AsyncSession, identity: Identity, unread_only: bool, limit: int, offset: int
) -> tuple[list[Message], int, int]:
    mine = sa.and_(Message.recipient_id == citizen_of(identity), Message.channel == "inbox")
    unread = sa.and_(mine, Message.read_at.is_(None))
    where = unread if unread_only else mine
    total = await session.scalar(sa.select(sa.func.count()).select_from(Message).where(where)) or 0
    unread_count = await session.scalar(sa.select(sa.func.count()).select_from(Message).where(unread)) or 0
    page = await session.scalars(
        sa.select(Message)
        .where(where)
        .order_by(Message.created_at.desc(), Message.id)
        .limit(limit)
        .offset(offset)
    )
    return list(page), total, unread_count


async def mark_read(session: AsyncSession, identity: Identity, message_id: str, now: datetime) -> Message:
    owner = citizen_of(identity)
    async with session.begin():
        message = await session.get(Message, message_id)
        # Someone else's message answers like a missing one: ids cannot be probed.
        if message is None or message.recipient_id != owner or message.channel != "inbox":
            raise not_found("消息 message", message_id)
        if message.read_at is None:
            message.read_at = now
    return message


def check_owner(owner_id: str) -> str:
    if owner_id.startswith("dept:") and 5 < len(owner_id) <= 40 and owner_id[5:].replace("-", "").isalnum():
        return owner_id
    try:
        return validate_id_number(owner_id)
    except InvalidIdNumber as exc:
        raise invalid("owner_id", "id_number", f"{exc} (or dept:<department code>)") from exc


async def get_contact(session: AsyncSession, owner_id: str) -> Contact:
    contact = await session.get(Contact, owner_id)
    if contact is None:
        raise not_found("联系方式 contact", owner_id[:6] + "…")
    return contact


async def save_contact(session: AsyncSession, owner_id: str, data: ContactUpdate, now: datetime) -> Contact:
    """Create or replace a contact-book entry; phone and e-mail are validated and normalised."""
    try:
        phone = normalise_mobile(data.phone) if data.phone else None
    except InvalidContact as exc:
        raise invalid("phone", "mobile_cn", str(exc)) from exc
    try:
        email = normalise_email(data.email) if data.email else None
    except InvalidContact as exc:
        raise invalid("email", "email", str(exc)) from exc
    values = {
        "name": data.name,
        "phone": phone,
        "email": email,
        "push_id": data.push_id,
        "channels": sorted(set(data.channels) | {"inbox"}),
        "quiet_start": data.quiet_start,
        "quiet_end": data.quiet_end,
        "updated_at": now,
        "subject_hash": None if owner_id.startswith("dept:") else subject_hash(owner_id),
    }
    async with session.begin():
        contact = await session.get(Contact, owner_id)
        if contact is None:
            contact = Contact(owner_id=owner_id, **values)
            session.add(contact)
        else:
            for key, value in values.items():
                setattr(contact, key, value)
    return contact


async def get_message(session: AsyncSession, message_id: str) -> Message:
    message = await session.get(Message, message_id)
    if message is None:
        raise not_found("消息 message", message_id)
    return message


async def dead_letters(session: AsyncSession, pending_only: bool, limit: int) -> list[DeadLetter]:
    query = sa.select(DeadLetter).order_by(DeadLetter.created_at.desc()).limit(limit)
    if pending_only:
        query = query.where(DeadLetter.redriven_at.is_(None))
    return list(await session.scalars(query))


async def redrive(session: AsyncSession, dead_letter_id: str, now: datetime) -> DeadLetter:
    """Give a dead-lettered message a fresh set of attempts, from now."""
    async with session.begin():
        entry = await session.get(DeadLetter, dead_letter_id)
        if entry is None:
            raise not_found("死信 dead letter", dead_letter_id)
        if entry.redriven_at is not None:
            raise Problem(409, "already_redriven", "已重新发送 Already re-driven", "该死信已重新发送过")
        message = await session.get(Message, entry.message_id)
        assert message is not None
        entry.redriven_at = now
        message.status, message.attempts, message.next_attempt_at = "created", 0, now
        message.completed_at = None
    return entry


async def alerts(session: AsyncSession, limit: int) -> list[Alert]:
    return list(await session.scalars(sa.select(Alert).order_by(Alert.created_at.desc()).limit(limit)))


async def delivery_report(
    session: AsyncSession,
    message_id: str,
    token: str,
    dlr_type: int,
    reference: str | None,
    reply: str,
    now: datetime,
    policy: RetryPolicy,
) -> Message:
    """Kannel's callback: only the attempt's own secret may move its message; repeats change nothing."""
    async with session.begin():
        message = await session.get(Message, message_id)
        digest = hashlib.sha256(token.encode()).hexdigest()
        if message is None or not hmac.compare_digest(message.callback_token_hash or "", digest):
            # Wrong token and unknown message look the same, so neither can be probed.
            raise not_found("消息 message", message_id)
        if reference and message.provider_reference is None:
            message.provider_reference = reference[:100]
        outcome = dlr_outcome(dlr_type, reply)
        if outcome is not None and message.status == SENDING:
            events: list[Event] = []
            apply_outcome(session, message, outcome, now, policy, events)
            await write_events(session, events)
    return message
