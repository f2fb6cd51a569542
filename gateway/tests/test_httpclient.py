"""The gateway's upstream HTTP client against real sockets: streaming, framing, reuse, failures."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from starlette.types import Message, Receive, Scope, Send

from gateway.upstreams import HttpUpstream
from localinfra import free_port

from .test_routing import _serving

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers or [],
    }


async def _forward(
    upstream: HttpUpstream,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]] | None = None,
    parts: list[bytes] | None = None,
    on_message: Callable[[Message], None] | None = None,
) -> tuple[int, dict[bytes, bytes], bytes]:
    """One request through `HttpUpstream.forward`, as the gateway makes it; (status, headers, body)."""
    pending = list(parts or [b""])
    sent: list[Message] = []

    async def receive() -> Message:
        chunk = pending.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: Message) -> None:
        sent.append(message)
        if on_message is not None:
            on_message(message)

    await upstream.forward(_scope(method, path, headers), receive, send, path)
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return sent[0]["status"], dict(sent[0]["headers"]), body


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    """Echoes what it received, and streams on /stream until released."""
    if scope["type"] != "http":
        return
    if scope["path"] == "/stream":
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        for n in range(2):
            await send({"type": "http.response.body", "body": f"data: {n}\n\n".encode(), "more_body": True})
        await RELEASE.wait()
        await send({"type": "http.response.body", "body": b"data: last\n\n"})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    headers = dict(scope["headers"])
    answer = (
        f"{scope['method']} {len(body)} {hashlib.sha256(body).hexdigest()[:16]} "
        f"te={headers.get(b'transfer-encoding', b'-').decode()} expect={headers.get(b'expect', b'-').decode()}"
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(answer)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else answer})


RELEASE = asyncio.Event()


@pytest.fixture
async def echo() -> AsyncIterator[HttpUpstream]:
    port = free_port()
    async with _serving(_app, port):  # type: ignore[arg-type]
        upstream = HttpUpstream("echo", f"http://127.0.0.1:{port}", timeout_s=5, retries=0)
        yield upstream
        await upstream.close()


async def test_a_streamed_response_reaches_the_client_chunk_by_chunk(echo: HttpUpstream) -> None:
    RELEASE.clear()
    chunks: list[bytes] = []

    def seen(message: Message) -> None:
        if message.get("body"):
            chunks.append(message["body"])
            if len(chunks) == 2:
                RELEASE.set()  # the service sends its last event only after the first two arrived

    status, headers, body = await asyncio.wait_for(_forward(echo, "GET", "/stream", on_message=seen), 10)
    assert status == 200
    assert body == b"data: 0\n\ndata: 1\n\ndata: last\n\n"
    assert headers[b"content-type"] == b"text/event-stream"
    assert b"transfer-encoding" not in headers  # framing is each hop's own business


async def test_a_chunked_upload_without_length_arrives_whole(echo: HttpUpstream) -> None:
    parts = [b"a" * 70_000, b"b" * 3, b"c" * 200_000]
    headers = [(b"transfer-encoding", b"chunked"), (b"expect", b"100-continue")]
    status, _headers, body = await _forward(echo, "POST", "/upload", headers, parts)
    digest = hashlib.sha256(b"".join(parts)).hexdigest()[:16]
    assert (status, body.decode()) == (200, f"POST 270003 {digest} te=chunked expect=-")


async def test_head_ends_at_the_headers_and_the_next_request_still_works(echo: HttpUpstream) -> None:
    status, headers, body = await asyncio.wait_for(_forward(echo, "HEAD", "/x"), 3)
    assert (status, body) == (200, b"")
    assert int(headers[b"content-length"]) > 0
    assert (await _forward(echo, "GET", "/x"))[2].startswith(b"GET 0 ")


async def _raw_server(handler: Handler) -> tuple[asyncio.Server, int, list[int]]:
    """A TCP server speaking whatever `handler` says; the list counts accepted connections."""
    accepted: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], accepted


def _answer(keep_alive: bool) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readuntil(b"\r\n\r\n"):
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            await writer.drain()
            if not keep_alive:
                return  # closes the kept-alive connection behind the client's back

    return handler


@pytest.mark.parametrize("keep_alive", [True, False])
async def test_connections_are_reused_and_one_closed_by_the_service_is_replaced(keep_alive: bool) -> None:
    server, port, accepted = await _raw_server(_answer(keep_alive))
    upstream = HttpUpstream("raw", f"http://127.0.0.1:{port}", timeout_s=2, retries=0)
    try:
        for _ in range(5):
            assert (await _forward(upstream, "GET", "/"))[::2] == (200, b"ok")
        assert len(accepted) == (1 if keep_alive else 5)
        assert upstream.breaker.state == "closed"
    finally:
        await upstream.close()
        server.close()


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(1 << 16)
    await asyncio.sleep(5)


async def _garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HELLO WORLD\r\n\r\n")
    await writer.drain()


@pytest.mark.parametrize(
    ("handler", "status", "code"),
    [(_silent, 504, "upstream_timeout"), (_garbage, 502, "upstream_unreachable")],
)
async def test_a_silent_or_garbled_service_is_a_gateway_problem(
    handler: Handler, status: int, code: str
) -> None:
    server, port, _accepted = await _raw_server(handler)
    upstream = HttpUpstream("raw", f"http://127.0.0.1:{port}", timeout_s=0.3, retries=0)
    try:
        answer_status, headers, body = await asyncio.wait_for(_forward(upstream, "GET", "/"), 5)
        assert answer_status == status
        assert headers[b"content-type"] == b"application/problem+json"
        assert code.encode() in body
    finally:
        await upstream.close()
        server.close()


def test_an_upstream_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="must be http"):
        HttpUpstream("x", "ftp://example")
