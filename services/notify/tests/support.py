"""Events, a citizen and servers the notify tests share (real SMTP and HTTP servers, no mocks)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import uvicorn
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI

from contracts.envelope import Event, new_event
from contracts.intake import ApplicationAccepted
from servicekit.identity import Identity

CITIZEN_ID = "330702195003150013"
PHONE = "13800579001"
CASE = "11330702MB12345674330520001000202611250001"


def daytime() -> datetime:
    """The dispatcher's clock where a test sends non-urgent SMS: 11:00 in Wucheng, outside the quiet
    hours (the wall clock would hold them until 08:00 whenever the suite runs in China's night)."""
    return datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


CITIZEN = Identity(
    kind="citizen",
    client_id="zlb-app",
    scopes=frozenset({"notify:read"}),
    citizen_id=CITIZEN_ID,
    citizen_name="王建国",
)
OTHER = Identity(
    kind="citizen", client_id="zlb-app", scopes=frozenset({"notify:read"}), citizen_id="11010519491231002X"
)
CONTACT = {"name": "王建国", "phone": PHONE, "email": "wang.jianguo@example.com", "push_id": "device-1"}


def accepted(case_number: str = CASE, **changes: Any) -> Event:
    data = ApplicationAccepted(
        application_id="app-" + case_number[-4:],
        case_number=case_number,
        item_id="wc-mzj-lnyd",
        item_version=1,
        department_code="wc-mzj",
        applicant_kind="person",
        applicant_id=CITIZEN_ID,
        applicant_name="王建国",
        accepted_at=datetime(2026, 11, 25, 2, 30, tzinfo=UTC),
        promised_date=date(2026, 12, 2),
    )
    data = data.model_copy(update=changes)
    return new_event(
        type="intake.application.accepted", source="/intake", subject=data.application_id, data=data
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Mailbox:
    """What a real SMTP server (aiosmtpd) received; addresses in `refuse` get a 550."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        self.messages.append(message_from_bytes(raw, policy=policy.default))
        return "250 Message accepted for delivery"


@contextlib.contextmanager
def smtp_server() -> Any:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, mailbox
    finally:
        controller.stop()


@dataclass
class Webhook:
    """A real HTTP endpoint standing in for the app's push service; `answers` says what it replies."""

    answers: list[int] = field(default_factory=lambda: [200])
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    delay_s: float = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.read()))
        await asyncio.sleep(self.delay_s)
        status = self.answers[min(len(self.received), len(self.answers)) - 1]
        return web.Response(status=status, text="ok")


@contextlib.asynccontextmanager
async def webhook_server(hook: Webhook) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/push", hook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}/push"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """The notify API on a real port, where Kannel's delivery reports can reach it."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
        if task.done():
            task.result()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def eventually(check: Any, timeout_s: float = 20) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.1)
