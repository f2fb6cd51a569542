"""Upstreams: a service reached over HTTP (pooled, streaming both ways) or in-process (embedded)."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator
from typing import Any, Protocol
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.breaker import CircuitBreaker
from gateway.httpclient import Connection, HttpPool, UpstreamClosed, request_head
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
# Also not forwarded: the caller's Expect (the gateway sends a body at once, never waits for 100).
_NOT_FORWARDED = frozenset(HOP_BY_HOP | {b"expect"})
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
    """A service over HTTP, through the gateway's own pooled client (gateway.httpclient).

    aiohttp kept 0.90x of direct throughput here (httpx 0.065x); the lean client costs about a
    third less CPU per request again, which is what the gateway's CPU goal needs.
    """

    IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})

    def __init__(
        self, name: str, base_url: str, timeout_s: float = 10.0, retries: int = 2, body_idle_s: float = 60.0
    ) -> None:
        self.name = name
        url = urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"{name}: upstream URL must be http(s)://host[:port][/path], not {base_url!r}")
        secure = url.scheme == "https"
        self._ssl = ssl.create_default_context() if secure else None
        self.pool = HttpPool(url.hostname, url.port or (443 if secure else 80), ssl=self._ssl)
        self._base_path = url.path.rstrip("/").encode()
        self.timeout_s = timeout_s  # until the response starts (connect included)
        self.connect_timeout_s = min(2.0, timeout_s)
        self.body_idle_s = max(body_idle_s, timeout_s)  # between two chunks of a streamed response
        self.retries = retries
        self.breaker = CircuitBreaker()

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
        query: bytes = scope.get("query_string", b"")
        target = self._base_path + path.encode("latin-1") + (b"?" + query if query else b"")
        headers = [(k, v) for k, v in scope["headers"] if k not in _NOT_FORWARDED]
        method: str = scope["method"]
        body, chunked = await _request_body(method, scope, receive, headers)
        head = request_head(method, target, self.pool.authority, headers)
        # Only idempotent requests are retried, and only when nothing reached the client yet.
        attempts = 1 + (self.retries if method in self.IDEMPOTENT else 0)
        attempt, stale_retried = 0, False
        while attempt < attempts:
            attempt += 1
            started = reused = False
            try:
                async with asyncio.timeout(self.timeout_s):
                    connection, reused = await self.pool.acquire(self.connect_timeout_s)
                    try:
                        await connection.send(head, body, chunked)
                        status, upstream_headers = await connection.response_start()
                    except BaseException:
                        self.pool.release(connection)
                        raise
                if status in (502, 503, 504):
                    self.breaker.failure()
                else:
                    self.breaker.success()
                started = True
                await self._relay(method, connection, status, upstream_headers, send)
                return
            except (TimeoutError, OSError) as exc:
                if started:
                    raise  # the response is half sent: nothing honest is left to do but drop it
                if (
                    reused
                    and isinstance(exc, UpstreamClosed)
                    and method in self.IDEMPOTENT
                    and not stale_retried
                ):
                    # A kept-alive connection the service closed just as it was reused: not a failure.
                    attempt, stale_retried = attempt - 1, True
                    continue
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

    async def _relay(
        self, method: str, connection: Connection, status: int, headers: list[tuple[bytes, bytes]], send: Send
    ) -> None:
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP],
                }
            )
            if method != "HEAD":  # a HEAD answer announces a length it never sends: not reused
                async for chunk in connection.body(self.body_idle_s):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            self.pool.release(connection)

    async def get_json(self, path: str) -> tuple[int, Any]:
        head = request_head("GET", self._base_path + path.encode(), self.pool.authority, [])
        async with asyncio.timeout(self.timeout_s):
            connection, _reused = await self.pool.acquire(self.connect_timeout_s)
            try:
                await connection.send(head, None, False)
                status, _headers = await connection.response_start()
                body = b"".join([chunk async for chunk in connection.body(self.timeout_s)])
            finally:
                self.pool.release(connection)
        return status, json.loads(body or b"null")

    async def close(self) -> None:
        self.pool.close()


async def _request_body(
    method: str, scope: Scope, receive: Receive, headers: list[tuple[bytes, bytes]]
) -> tuple[bytes | AsyncIterator[bytes] | None, bool]:
    """The body to send and whether it needs chunked coding (the caller's own was hop-by-hop)."""
    if method in HttpUpstream.IDEMPOTENT:
        return None, False
    length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
    if length is not None:
        # Small bodies are read at once (the common JSON case); uploads stream through as they
        # arrive, so a large file never sits whole in the gateway's memory.
        return (await _read_body(receive) if int(length) <= _BUFFER_LIMIT else _stream(receive)), False
    if any(k == b"transfer-encoding" for k, _v in scope["headers"]):
        headers.append((b"transfer-encoding", b"chunked"))
        return _stream(receive), True
    return None, False


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
