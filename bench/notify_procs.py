"""Processes of bench/notify.py: the SMTP server, the dispatcher process, CPU from /proc, a quiet machine."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from servicekit.db import make_engine

CONNECTIONS = 4  # SMTP connections: notify's channel and the raw path alike
SERVER = """
import sys
from aiosmtpd.controller import Controller
class Count:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
controller = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start(); print("ready", flush=True); sys.stdin.read(); controller.stop()
"""


def _stat(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []  # gone meanwhile


def _cpu_s(pid: int, reaped: bool = False) -> float:
    """utime + stime of `pid`; with `reaped`, also of its children that exited (PostgreSQL's backends
    of a disposed engine, reaped by the postmaster)."""
    fields = _stat(pid)
    ticks = sum(int(f) for f in fields[11 : 15 if reaped else 13])
    return ticks / os.sysconf("SC_CLK_TCK")


def _children(parent: int) -> list[int]:
    """PostgreSQL's backends and auxiliary processes (WAL writer, checkpointer) are the postmaster's."""
    pids = (int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit())
    return [pid for pid in pids if (fields := _stat(pid)) and int(fields[1]) == parent]


class Cpu:
    """CPU seconds of this process, the SMTP server and PostgreSQL, between two readings."""

    def __init__(self, smtp_pid: int, pg_pid: int | None) -> None:
        self.smtp_pid, self.pg_pid = smtp_pid, pg_pid  # pg_pid: None for an external server (not read)
        # The dispatcher processes' CPU once they were ready (their start-up is not the phase's work).
        self.dispatchers_s = 0.0
        self.live: dict[int, float] = {}

    def read(self) -> dict[str, float]:
        pg = (
            _cpu_s(self.pg_pid, True) + sum(map(_cpu_s, _children(self.pg_pid)))
            if self.pg_pid
            else float("nan")
        )
        running = sum(_cpu_s(pid) - ready for pid, ready in self.live.items())
        return {
            "bench/notify/client": time.process_time(),
            "dispatcher process": self.dispatchers_s + running,
            "smtp server": _cpu_s(self.smtp_pid),
            "postgres": pg,
        }

    @staticmethod
    def per_message(before: dict[str, float], after: dict[str, float], n: int) -> str:
        return ", ".join(f"{k} {(after[k] - before[k]) / n * 1e6:,.0f}" for k in before) + " µs/message"


async def _listening(url: str, deadline_s: float = 60) -> None:
    """Until the dispatcher process LISTENs for new messages: it is up and will see the first one."""
    engine, deadline = make_engine(url), time.monotonic() + deadline_s
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'"
    )
    while not await scalar(engine, query):
        if time.monotonic() > deadline:
            raise SystemExit("the dispatcher process did not start")
        await asyncio.sleep(0.1)
    await engine.dispose()


async def scalar(engine: AsyncEngine, query: sa.Executable) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(query) or 0)


@contextlib.asynccontextmanager
async def dispatcher_process(url: str, port: int, cpu: Cpu) -> AsyncIterator[None]:
    """`python -m notify.worker` with NOTIFY_ROLE=dispatcher: its own process, as deployed on >1 core."""
    settings = {  # no e-mail rate limit: the raw path has none either
        "ROLE": "dispatcher", "DATABASE_URL": url, "INTERNAL_TOKEN_KEY": "bench-only-unused", "LOG_LEVEL": "WARNING",
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_CONNECTIONS": CONNECTIONS, "EMAIL_RATE_PER_S": 1e6,
    }  # fmt: skip
    env = os.environ | {f"NOTIFY_{k}": str(v) for k, v in settings.items()}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "notify.worker", env=env)
    try:
        await _listening(url)
        cpu.live[proc.pid] = _cpu_s(proc.pid)
        yield
    finally:
        if proc.pid in cpu.live:
            cpu.dispatchers_s += _cpu_s(proc.pid) - cpu.live.pop(proc.pid)
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 60)


def wait_for_quiet(limit_s: float) -> str:
    """Other benchmarks and busy test runs distort every figure here: wait for them, within bounds."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        others = subprocess.run(["pgrep", "-f", "bench/"], capture_output=True, text=True).stdout.split()
        others = [pid for pid in others if int(pid) != os.getpid()]
        if not others and os.getloadavg()[0] < 1.5:
            return "quiet"
        time.sleep(10)
    return "NOT quiet (waited the limit): treat the figures with care"
