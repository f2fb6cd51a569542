"""Upstreams: a service reached over HTTP (aiohttp, streaming both ways) or in-process (embedded)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any, Protocol

import aiohttp
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.breaker import CircuitBreaker
from servicekit.problems import problem_response

# Connection-level headers are the proxy's own business, never forwarded (RFC 9110 §7.6.1).
HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-authenticate",
    b"proxy-authorization",
    b"te",
    b"trailer",
    b"transfer-encoding",
    b"upgrade",
    b"host",
}
_BUFFER_LIMIT = 1 << 20


class Upstream(Protocol):
    name: str

    async def forward(self, scope: Scope, receive: Receive, send: Send, path: str) -> None: ...

    async def get_json(self, path: str) -> tuple[int, Any]: ...

    async def close(self) -> None: ...


class AsgiUpstream:
    """A service app in this process (the embedded mode): the request is handed over as is."""

    def __init__(self, name: str, app: ASGIApp) -> None:
        self.name = name
        self.app = app

    async def forward(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        inner = {**scope, "path": path, "raw_path": path.encode(), "root_path": ""}
        await self.app(inner, receive, send)

    async def get_json(self, path: str) -> tuple[int, Any]:
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"gateway")],
            "client": ("127.0.0.1", 0),
            "server": ("gateway", 80),
        }
        status, chunks = 500, []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, json.loads(b"".join(chunks) or b"null")

    async def close(self) -> None:
        return


class HttpUpstream:
    """A service over HTTP; aiohttp because it kept 0.90x of direct throughput here (httpx 0.065x)."""

    IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})

    def __init__(self, name: str, base_url: str, timeout_s: float = 10.0, retries: int = 2) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_s, connect=2.0)
        self.retries = retries
        self.breaker = CircuitBreaker()
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=200, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=False)
        return self._session

    async def forward(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        if not self.breaker.allow():
            await _unavailable(
                scope,
                receive,
                send,
                503,
                "upstream_circuit_open",
                f"{self.name} is failing; try again later",
                retry_after=self.breaker.retry_after_s(),
            )
            return
        query = scope.get("query_string", b"")
        url = self.base_url + path + (f"?{query.decode('latin-1')}" if query else "")
        headers = [
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"] if k not in HOP_BY_HOP
        ]
        method = scope["method"]
        body: bytes | AsyncIterator[bytes] | None = None
        if method not in self.IDEMPOTENT:
            length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
            # Small bodies are read at once (the common JSON case); uploads stream through as they
            # arrive, so a large file never sits whole in the gateway's memory.
            body = (
                await _read_body(receive)
                if length is not None and int(length) <= _BUFFER_LIMIT
                else _stream(receive)
            )
        # Only idempotent requests are retried, and only when nothing reached the client yet.
        attempts = 1 + (self.retries if method in self.IDEMPOTENT else 0)
        for attempt in range(1, attempts + 1):
            started = False
            try:
                async with self._client().request(
                    method, url, headers=headers, data=body, allow_redirects=False, timeout=self.timeout
                ) as upstream:
                    if upstream.status in (502, 503, 504):
                        self.breaker.failure()
                    else:
                        self.breaker.success()
                    started = True
                    await send(
                        {
                            "type": "http.response.start",
                            "status": upstream.status,
                            "headers": [
                                (k, v) for k, v in upstream.raw_headers if k.lower() not in HOP_BY_HOP
                            ],
                        }
                    )
                    async for chunk in upstream.content.iter_any():
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
            except (TimeoutError, aiohttp.ClientError) as exc:
                if started:
                    raise  # the response is half sent: nothing honest is left to do but drop it
                self.breaker.failure()
                if attempt < attempts and self.breaker.allow():
                    await asyncio.sleep(0.05 * attempt)
                    continue
                timeout = isinstance(exc, TimeoutError)
                await _unavailable(
                    scope,
                    receive,
                    send,
                    504 if timeout else 502,
                    "upstream_timeout" if timeout else "upstream_unreachable",
                    f"{self.name}: {'no answer in time' if timeout else type(exc).__name__}",
                )
                return

    async def get_json(self, path: str) -> tuple[int, Any]:
        async with self._client().get(self.base_url + path, timeout=self.timeout) as response:
            return response.status, await response.json(content_type=None)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


async def _stream(receive: Receive) -> AsyncIterator[bytes]:
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > _BUFFER_LIMIT * 16:  # a chunked upload without Content-Length is capped here
            raise ValueError("request body too large")
        if chunk:
            yield chunk
        if not message.get("more_body"):
            return


async def _read_body(receive: Receive) -> bytes:
    """The request body; bodies over the limit are refused before this by the size check."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > _BUFFER_LIMIT * 16:
            raise ValueError("request body too large")
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _unavailable(
    scope: Scope, receive: Receive, send: Send, status: int, code: str, detail: str, retry_after: int = 5
) -> None:
    response = problem_response(
        status, code, "上游服务不可用 Upstream unavailable", detail, headers={"Retry-After": str(retry_after)}
    )
    await response(scope, receive, send)
