"""Writing back-office events: into the outbox, inside the caller's transaction, keyed per case."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import EventData, new_event
from messaging.outbox import add_event
from servicekit.logs import request_id_var

SOURCE = "/backoffice"


async def emit(session: AsyncSession, event_type: str, subject: str, data: EventData) -> None:
    """Stage an event on `backoffice.tasks`; `subject` (the application id, or a complaint's id) keys
    it, so one case's events stay in order on one partition."""
    await add_event(
        session,
        new_event(type=event_type, source=SOURCE, subject=subject, data=data, requestid=request_id_var.get()),
    )
