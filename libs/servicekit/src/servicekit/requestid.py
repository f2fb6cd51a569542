"""X-Request-ID: taken from the caller when well-formed, generated otherwise, echoed and logged."""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.logs import request_id_var

HEADER = b"x-request-id"
_VALID = re.compile(rb"^[A-Za-z0-9._-]{1,100}$")


class RequestIdMiddleware:
    """Plain ASGI (no BaseHTTPMiddleware) so streaming responses pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == HEADER), None)
        rid = given if given is not None and _VALID.match(given) else uuid.uuid4().hex.encode()
        if rid is not given:
            # Put the id into the request too, so a proxy behind us forwards the same one.
            headers = [(k, v) for k, v in scope["headers"] if k != HEADER]
            scope = {**scope, "headers": [*headers, (HEADER, rid)]}
        token = request_id_var.set(rid.decode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != HEADER]
                message["headers"] = [*headers, (HEADER, rid)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
