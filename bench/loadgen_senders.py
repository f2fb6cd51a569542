"""The generator's senders: raw keep-alive HTTP/1.1 connections on asyncio protocols, and aiohttp."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import socket
from types import TracebackType
from typing import cast

import aiohttp

from bench.loadgen_core import CONNECTION_ERROR, Done, Target


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection with at most one request in flight."""

    def __init__(self, pool: RawPool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.current: tuple[int, Done] | None = None
        self.status = 0
        self.body_left = -1  # bytes of body still to come; -1 while reading the head
        self.chunked = False
        self.in_trailer = False
        self.close_after = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not an asyncio.Transport subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def request(self, index: int, done: Done) -> None:
        assert self.transport is not None
        self.current = (index, done)
        self.transport.write(self.pool.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.current is not None and self._parse():
            index, done = self.current
            self.current = None
            done(index, self.status)
            if self.close_after:
                self.pool.discard(self)
                if self.transport is not None:
                    self.transport.close()
                return
            self.pool.release(self)

    def _parse(self) -> bool:
        """True once the current response is complete (its bytes are then consumed)."""
        buffer = self.buffer
        if self.body_left < 0 and not self.chunked:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return False
            head = bytes(buffer[:end]).lower()
            del buffer[: end + 4]
            self.status = int(head[9:12])
            self.close_after = b"\r\nconnection: close" in head
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                self.body_left = int(head[at + 17 : stop if stop >= 0 else len(head)])
            elif b"\r\ntransfer-encoding: chunked" in head:
                self.chunked, self.in_trailer = True, False
            else:
                self.body_left = 0  # 204/304, or a body up to close: not produced by our targets
        if self.chunked:
            return self._parse_chunks()
        if len(buffer) < self.body_left:
            return False
        del buffer[: self.body_left]
        self.body_left = -1
        return True

    def _parse_chunks(self) -> bool:
        buffer = self.buffer
        while True:
            line_end = buffer.find(b"\r\n")
            if line_end < 0:
                return False
            if self.in_trailer:
                del buffer[: line_end + 2]
                if line_end == 0:  # the empty line after the last chunk (and any trailers)
                    self.chunked = False
                    return True
                continue
            size = int(bytes(buffer[:line_end]).split(b";", 1)[0], 16)
            if size == 0:
                del buffer[: line_end + 2]
                self.in_trailer = True
                continue
            if len(buffer) < line_end + 2 + size + 2:
                return False
            del buffer[: line_end + 2 + size + 2]

    def connection_lost(self, exc: Exception | None) -> None:
        self.pool.discard(self)
        if self.current is not None:
            index, done = self.current
            self.current = None
            done(index, CONNECTION_ERROR)


class RawPool:
    """Up to `max_connections` keep-alive connections to one target; `size` are opened up front."""

    name = "raw asyncio HTTP/1.1"

    def __init__(self, target: Target, size: int = 32, max_connections: int = 256) -> None:
        self.target = target
        self.request = target.request_bytes()
        self.size = size
        self.max_connections = max_connections
        self.idle: list[_Connection] = []  # LIFO: the busiest connections stay warm
        self.open: set[_Connection] = set()
        self.connecting = 0
        self.pending: collections.deque[tuple[int, Done]] = collections.deque()
        self.connections_made = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> RawPool:
        await asyncio.gather(*(self._connect() for _ in range(self.size)))
        if not self.idle:
            raise ConnectionError(f"no connection to {self.target.url}")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for task in list(self._tasks):
            task.cancel()
        for connection in list(self.open):
            if connection.transport is not None:
                connection.transport.abort()
        self.open.clear()
        self.idle.clear()
        self.pending.clear()

    async def _connect(self) -> None:
        self.connecting += 1
        try:
            loop = asyncio.get_running_loop()
            _transport, connection = await asyncio.wait_for(
                loop.create_connection(lambda: _Connection(self), self.target.host, self.target.port), 5
            )
        except (OSError, TimeoutError):
            self.connecting -= 1
            self._fail_pending_if_stuck()
            return
        self.connecting -= 1
        self.connections_made += 1
        self.open.add(connection)
        self.release(connection)

    def send(self, index: int, done: Done) -> None:
        if self.idle:
            self.idle.pop().request(index, done)
            return
        self.pending.append((index, done))
        if len(self.open) + self.connecting < self.max_connections:
            task = asyncio.get_running_loop().create_task(self._connect())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def release(self, connection: _Connection) -> None:
        if self.pending:
            connection.request(*self.pending.popleft())
        else:
            self.idle.append(connection)

    def discard(self, connection: _Connection) -> None:
        self.open.discard(connection)
        with contextlib.suppress(ValueError):
            self.idle.remove(connection)
        self._fail_pending_if_stuck()

    def _fail_pending_if_stuck(self) -> None:
        if not self.open and not self.connecting:
            while self.pending:
                index, done = self.pending.popleft()
                done(index, CONNECTION_ERROR)


class AiohttpSender:
    """One pooled `aiohttp.ClientSession`, a task per request, the body read to the end."""

    name = "aiohttp"

    def __init__(self, target: Target, limit: int = 256) -> None:
        self.target = target
        self.limit = limit
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> AiohttpSender:
        connector = aiohttp.TCPConnector(limit=self.limit)
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, timeout=aiohttp.ClientTimeout(total=10)
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._session is not None:
            await self._session.close()

    def send(self, index: int, done: Done) -> None:
        task = asyncio.get_running_loop().create_task(self._one(index, done))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _one(self, index: int, done: Done) -> None:
        assert self._session is not None
        try:
            async with self._session.get(self.target.url, headers=dict(self.target.headers)) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            status = CONNECTION_ERROR
        done(index, status)
