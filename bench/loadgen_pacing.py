"""Open and closed loops: request i due at t0 + i/rate, paced by a Linux timerfd (see bench/loadgen.py)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ctypes
import os
import time
from collections.abc import Callable

from bench.loadgen_core import TIMED_OUT, Result, Sender

_CLOCK_MONOTONIC = 1  # time.monotonic_ns() reads CLOCK_MONOTONIC on Linux, and so does the timerfd
_TFD_NONBLOCK = os.O_NONBLOCK
_TFD_CLOEXEC = os.O_CLOEXEC
_TFD_TIMER_ABSTIME = 1
_PR_SET_TIMERSLACK = 29


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
