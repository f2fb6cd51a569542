"""Demo contacts for the embedded mode: the demo citizen 王建国 and one department duty contact."""

from __future__ import annotations

from datetime import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notify import service
from notify.clock import utc_now
from notify.models import Contact
from notify.schemas import ContactUpdate

# The gateway's demo citizen (gateway/src/gateway/demo.py); made-up phone and mailbox.
DEMO_CITIZEN_ID = "330702195003150013"
DEMO_CONTACTS = {
    DEMO_CITIZEN_ID: ContactUpdate(
        name="王建国",
        phone="13800579001",
        email="wang.jianguo@example.com",
        push_id="zlb-device-demo-0001",
        quiet_start=time(22, 0),
        quiet_end=time(8, 0),
    ),
    "dept:wc-mzj": ContactUpdate(name="区民政局值班", phone="13800579002", email="mzj-duty@example.com"),
}


async def load_demo_contacts(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Add the demo contacts that are missing; returns how many were added (0 on later starts)."""
    added = 0
    for owner_id, contact in DEMO_CONTACTS.items():
        async with sessions() as session:
            if await session.get(Contact, owner_id) is not None:
                continue
        async with sessions() as session:
            await service.save_contact(session, owner_id, contact, utc_now())
        added += 1
    return added
