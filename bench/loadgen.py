"""Open-loop HTTP/1.1 load generator: request i is due at t0 + i/rate, its latency counts from then.

A stall of the server therefore shows up as latency for every request queued behind it (no
coordinated omission). Sends are paced by a Linux timerfd (nanosecond timer, woken through the event
loop), not by the event loop's own timers: those have 1 ms granularity, which would add up to 1 ms of
the generator's lateness to every latency (the wrk2 problem in /work/shared/research/performance.md
§2.2). Two senders share the pacer:

- `RawPool`: keep-alive connections speaking HTTP/1.1 over asyncio protocols, one request in flight
  per connection, a prebuilt request, and callbacks instead of tasks (the cheap one, about 15-25 µs of
  CPU per request);
- `AiohttpSender`: an `aiohttp.ClientSession` with a pooled connector, one task per request (what an
  application would use; about 3x the CPU).

When every connection is busy a request waits in a queue, and that wait is part of its latency.
Everything is bounded: a run stops waiting `drain_timeout_s` after its last send, and the requests
still open then are counted as timeouts (status -1). Connection errors count as status 0.

    async with RawPool(Target("127.0.0.1", 8080, "/items/x")) as pool:
        result = await open_loop(pool, rate=2000, duration_s=10)
        print(result.percentile(0.99), result.achieved_rate)
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ctypes
import math
import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol, cast

import aiohttp

Done = Callable[[int, int], None]  # (request index, HTTP status; 0 = connection error)
TIMED_OUT = -1
CONNECTION_ERROR = 0

_CLOCK_MONOTONIC = 1  # time.monotonic_ns() reads CLOCK_MONOTONIC on Linux, and so does the timerfd
_TFD_NONBLOCK = os.O_NONBLOCK
_TFD_CLOEXEC = os.O_CLOEXEC
_TFD_TIMER_ABSTIME = 1
_PR_SET_TIMERSLACK = 29


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    def request_bytes(self) -> bytes:
        lines = [f"GET {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Sender(Protocol):
    """Sends request `index` now (or queues it) and calls `done(index, status)` when it ends."""

    name: str

    def send(self, index: int, done: Done) -> None: ...


@dataclass
class Result:
    sender: str
    rate: float  # offered, requests/s (0 for a closed-loop run)
    scheduled: int
    started_ns: int  # t0: the intended time of request 0
    latencies_ns: list[int]  # per completed request, from its intended send time to the last byte
    send_lag_ns: list[int]  # per request, from its intended time to the moment it was handed on
    statuses: collections.Counter[int]
    last_done_ns: int
    cpu_s: float  # this process's CPU time during the run (all threads)
    pacing: str

    @property
    def completed(self) -> int:
        return len(self.latencies_ns)

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200)

    @property
    def achieved_rate(self) -> float:
        """Responses per second from t0 to the last response."""
        span = (self.last_done_ns - self.started_ns) / 1e9
        return self.completed / span if span > 0 else 0.0

    def percentile(self, q: float) -> float:
        """Nearest-rank latency percentile in seconds (NaN without samples)."""
        return _nearest_rank(self.latencies_ns, q) / 1e9

    def lag_percentile(self, q: float) -> float:
        return _nearest_rank(self.send_lag_ns, q) / 1e9

    @property
    def cpu_per_request_s(self) -> float:
        return self.cpu_s / self.scheduled if self.scheduled else math.nan


def _nearest_rank(values: list[int], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(q * len(ordered)) - 1)])


def reduce_timer_slack() -> None:
    """Let this process's timers fire within 1 µs instead of Linux's default 50 µs slack."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_TIMERSLACK, 1, 0, 0, 0)


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


class _Pacer:
    """A periodic CLOCK_MONOTONIC timerfd: first expiry at `start_ns`, then every `interval_ns`."""

    def __init__(self, start_ns: int, interval_ns: int) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.timerfd_create(_CLOCK_MONOTONIC, _TFD_NONBLOCK | _TFD_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "timerfd_create failed")
        spec = _Itimerspec(
            _Timespec(interval_ns // 1_000_000_000, interval_ns % 1_000_000_000),
            _Timespec(start_ns // 1_000_000_000, start_ns % 1_000_000_000),
        )
        if libc.timerfd_settime(fd, _TFD_TIMER_ABSTIME, ctypes.byref(spec), None) != 0:
            errno = ctypes.get_errno()
            os.close(fd)
            raise OSError(errno, "timerfd_settime failed")
        self.fd: int = fd

    def expirations(self) -> int:
        try:
            return int.from_bytes(os.read(self.fd, 8), "little")
        except BlockingIOError:
            return 0

    def close(self) -> None:
        os.close(self.fd)


async def open_loop(sender: Sender, rate: float, duration_s: float, drain_timeout_s: float = 10.0) -> Result:
    """Send round(rate * duration_s) requests at a fixed rate, whatever the answers do."""
    loop = asyncio.get_running_loop()
    count = max(1, round(rate * duration_s))
    interval_ns = max(1, round(1e9 / rate))
    latencies: list[int] = []
    lags = [0] * count
    statuses: collections.Counter[int] = collections.Counter()
    finished = loop.create_future()
    state = {"next": 0, "last_done": 0, "closed": 0}
    t0 = time.monotonic_ns() + 20_000_000  # 20 ms to set up

    def done(index: int, status: int) -> None:
        if state["closed"]:
            return  # a connection aborted after the run ended: already counted as timed out
        now = time.monotonic_ns()
        latencies.append(now - (t0 + index * interval_ns))
        statuses[status] += 1
        state["last_done"] = now
        if len(latencies) == count and not finished.done():
            finished.set_result(None)

    def dispatch(due: int) -> None:
        now = time.monotonic_ns()
        index = state["next"]
        end = min(count, index + due)
        while index < end:
            lags[index] = now - (t0 + index * interval_ns)
            sender.send(index, done)
            index += 1
        state["next"] = index

    cpu_before = time.process_time()
    pacing = "timerfd"
    try:
        pacer: _Pacer | None = _Pacer(t0, interval_ns)
    except (OSError, AttributeError):
        pacer, pacing = None, "event-loop timer (1 ms granularity)"
    try:
        if pacer is not None:
            timer = pacer

            def on_tick() -> None:
                dispatch(timer.expirations())
                if state["next"] >= count:
                    loop.remove_reader(timer.fd)

            loop.add_reader(pacer.fd, on_tick)
        else:
            await _paced_by_loop(t0, interval_ns, count, dispatch, state)
        # Bounded: the last send is due at t0 + duration; then at most drain_timeout_s of waiting.
        remaining = (t0 - time.monotonic_ns()) / 1e9 + duration_s + drain_timeout_s
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(finished), max(0.0, remaining))
    finally:
        state["closed"] = 1
        if pacer is not None:
            loop.remove_reader(pacer.fd)
            pacer.close()
    cpu = time.process_time() - cpu_before
    missing = count - len(latencies)
    if missing:
        statuses[TIMED_OUT] += missing
    return Result(
        sender=sender.name,
        rate=rate,
        scheduled=count,
        started_ns=t0,
        latencies_ns=list(latencies),
        send_lag_ns=lags[: state["next"]],
        statuses=statuses,
        last_done_ns=state["last_done"] or time.monotonic_ns(),
        cpu_s=cpu,
        pacing=pacing,
    )


async def _paced_by_loop(
    t0: int, interval_ns: int, count: int, dispatch: Callable[[int], None], state: dict[str, int]
) -> None:
    """Fallback pacing where there is no timerfd: sleep to each due time, send all that are due."""
    while state["next"] < count:
        due_at = t0 + state["next"] * interval_ns
        delay = (due_at - time.monotonic_ns()) / 1e9
        if delay > 0:
            await asyncio.sleep(delay)
        due = (time.monotonic_ns() - t0) // interval_ns + 1 - state["next"]
        dispatch(max(1, due))


async def closed_loop(sender: Sender, count: int, concurrency: int, timeout_s: float = 60.0) -> Result:
    """`count` requests with `concurrency` in flight: the sender's (and server's) maximum rate."""
    loop = asyncio.get_running_loop()
    latencies: list[int] = []
    sent_at = [0] * count
    statuses: collections.Counter[int] = collections.Counter()
    finished = loop.create_future()
    state = {"next": 0, "last_done": 0, "closed": 0}

    def send_next() -> None:
        index = state["next"]
        if index < count and not state["closed"]:
            state["next"] = index + 1
            sent_at[index] = time.monotonic_ns()
            sender.send(index, done)

    def done(index: int, status: int) -> None:
        if state["closed"]:
            return
        now = time.monotonic_ns()
        latencies.append(now - sent_at[index])
        statuses[status] += 1
        state["last_done"] = now
        if len(latencies) == count and not finished.done():
            finished.set_result(None)
        send_next()

    cpu_before = time.process_time()
    t0 = time.monotonic_ns()
    for _ in range(min(concurrency, count)):
        send_next()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(finished), timeout_s)
    state["closed"] = 1
    cpu = time.process_time() - cpu_before
    if count - len(latencies):
        statuses[TIMED_OUT] += count - len(latencies)
    return Result(
        sender=sender.name,
        rate=0.0,
        scheduled=count,
        started_ns=t0,
        latencies_ns=list(latencies),
        send_lag_ns=[],
        statuses=statuses,
        last_done_ns=state["last_done"] or time.monotonic_ns(),
        cpu_s=cpu,
        pacing="closed loop",
    )


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
