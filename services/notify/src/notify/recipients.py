"""Who a message goes to and how to reach them: the case read model, the contact book, item names.

Every read is one prebuilt statement (no ORM identity map): the consumer reads these for every
event. Item names, which change only when the catalogue republishes an item, are kept briefly.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from notify.models import CaseRecipient, Contact, ItemName
from notify.preferences import subject_hash
from notify.triggers import Trigger

_CASE = cast(sa.Table, CaseRecipient.__table__).c
_CONTACT = cast(sa.Table, Contact.__table__).c
_ITEM = cast(sa.Table, ItemName.__table__).c
_CONTACT_OF = sa.select(
    _CONTACT.owner_id, _CONTACT.name, _CONTACT.phone, _CONTACT.email, _CONTACT.push_id, _CONTACT.channels
).where(_CONTACT.owner_id == sa.bindparam("owner"))
_CONTACT_BY_HASH = sa.select(_CONTACT.owner_id).where(_CONTACT.subject_hash == sa.bindparam("hash")).limit(1)
_CASE_OF = sa.select(_CASE.applicant_id, _CASE.applicant_name, _CASE.item_id).where(
    _CASE.case_number == sa.bindparam("case_number")
)
_ITEM_NAME = sa.select(_ITEM.name).where(_ITEM.item_id == sa.bindparam("item_id"))


class Park(Exception):
    """The case this event is about is not known yet (its 受理 event has not been handled)."""


@dataclass(frozen=True)
class ContactInfo:
    name: str | None
    phone: str | None
    email: str | None
    push_id: str | None
    channels: list[str]

    def address(self, channel: str) -> str | None:
        if channel not in self.channels:
            return None
        return {"sms": self.phone, "email": self.email, "push": self.push_id}.get(channel)


@dataclass(frozen=True)
class Recipient:
    owner_id: str
    citizen: bool
    contact: ContactInfo | None
    context: dict[str, str]


@dataclass
class ItemNames:
    """Item names per database (engine); this worker's own `catalog.item.published` updates them at
    once, another worker's within `ttl_s`."""

    ttl_s: float = 300.0
    _names: weakref.WeakKeyDictionary[Engine, dict[str, tuple[str, float]]] = field(
        default_factory=weakref.WeakKeyDictionary
    )

    def _of(self, session: AsyncSession) -> dict[str, tuple[str, float]]:
        return self._names.setdefault(session.get_bind().engine, {})

    async def get(self, session: AsyncSession, item_id: str) -> str:
        cached = self._of(session).get(item_id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        # Not published (yet): the id is better than nothing; the item's event replaces it here.
        name = str(await session.scalar(_ITEM_NAME, {"item_id": item_id}) or item_id)
        self.put(session, item_id, name)
        return name

    def put(self, session: AsyncSession, item_id: str, name: str) -> None:
        self._of(session)[item_id] = (name, time.monotonic() + self.ttl_s)


ITEM_NAMES = ItemNames()


async def contact_of(session: AsyncSession, owner_id: str) -> ContactInfo | None:
    row = (await session.execute(_CONTACT_OF, {"owner": owner_id})).first()
    if row is None:
        return None
    return ContactInfo(row.name, row.phone, row.email, row.push_id, list(row.channels))


async def _case_context(
    session: AsyncSession, trigger: Trigger, data: dict[str, Any]
) -> tuple[Any, dict[str, str]]:
    # The 受理 event itself carries what the case read model would give: one query saved per event.
    needed = trigger.to in ("case", "subject") or not ("applicant_name" in data and data.get("item_id"))
    case = None
    if needed and data.get("case_number"):
        case = (await session.execute(_CASE_OF, {"case_number": data["case_number"]})).first()
    context: dict[str, str] = {}
    if case is not None:
        context["applicant_name"] = case.applicant_name
    item_id = data.get("item_id") or (case.item_id if case is not None else None)
    if item_id:
        context["item_name"] = await ITEM_NAMES.get(session, str(item_id))
    return case, context


async def resolve(session: AsyncSession, trigger: Trigger, data: dict[str, Any]) -> Recipient | None:
    """The recipient of `trigger` for this event's `data`; None when nobody is known to tell."""
    case, context = await _case_context(session, trigger, data)
    if trigger.to == "department":
        owner = f"dept:{data['department_code']}"
        return Recipient(owner, False, await contact_of(session, owner), context)
    if trigger.to == "case":
        if case is None:
            raise Park(str(data["case_number"]))
        owner = case.applicant_id
    elif trigger.to == "subject":
        wanted = str(data["subject_hash"])
        if case is not None and subject_hash(case.applicant_id) == wanted:
            owner = case.applicant_id
        else:
            found = await session.scalar(_CONTACT_BY_HASH, {"hash": wanted})
            if found is None:
                return None
            owner = found
    else:
        if data[trigger.to] is None:  # e.g. a hall ticket taken without an ID card
            return None
        owner = str(data[trigger.to]).upper()
    contact = await contact_of(session, owner)
    if contact is not None and contact.name and "applicant_name" not in context:
        context["applicant_name"] = contact.name
    return Recipient(owner, True, contact, context)
