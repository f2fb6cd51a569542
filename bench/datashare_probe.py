"""Process and machine probes for bench/datashare.py: CPU seconds from /proc, waiting for a quiet machine."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.loadgen import Target

QUIET_PATTERN = r"bench/(bus|gateway|catalog_search)\.py"
CLK_TCK = os.sysconf("SC_CLK_TCK")
QUIET_BUSY_PCT = 15.0  # the machine counts as idle below this share of busy CPU


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass(frozen=True)
class PostTarget(Target):
    body: bytes = b""

    def request_bytes(self) -> bytes:
        lines = [
            f"POST {self.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Content-Type: application/json",
        ]
        lines += [f"Content-Length: {len(self.body)}", *(f"{k}: {v}" for k, v in self.headers.items())]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


def cpu_s(pid: int, tree: bool = False) -> float:
    """CPU seconds of a process; with `tree`, plus its live children and every child it has reaped.

    PostgreSQL's autovacuum workers and ended backends come and go: their time moves into the
    postmaster's cutime/cstime when they exit, so the sum stays monotonic.
    """
    pids = [pid]
    if tree:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == str(pid):
                        pids.append(int(entry.name))
    total = 0.0
    for p in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            ticks = int(fields[11]) + int(fields[12])
            if tree and p == pid:
                ticks += int(fields[13]) + int(fields[14])
            total += ticks / CLK_TCK
    return total


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / CLK_TCK, sum(values[:8]) / CLK_TCK


def own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def other_benchmarks() -> list[str]:
    found = subprocess.run(["pgrep", "-af", QUIET_PATTERN], capture_output=True, text=True, check=False)
    return [line for line in found.stdout.splitlines() if not line.startswith(f"{os.getpid()} ")]


def machine_busy_pct(seconds: float = 3.0) -> float:
    before = machine_cpu()
    time.sleep(seconds)
    after = machine_cpu()
    return (after[0] - before[0]) / max(after[1] - before[1], 1e-9) * 100


def wait_for_quiet(limit_s: float) -> str:
    """Wait for the benchmarks in QUIET_PATTERN to end, and for the machine to be mostly idle."""
    deadline = time.monotonic() + limit_s
    while True:
        others, busy = other_benchmarks(), machine_busy_pct()
        if not others and busy <= QUIET_BUSY_PCT:
            return f"no other benchmark running, machine {busy:.0f} % busy before the run"
        if time.monotonic() > deadline:
            return f"still running: {'; '.join(others) or 'none of ours'}, machine {busy:.0f} % busy"
        log(f"waiting: machine {busy:.0f} % busy; other benchmarks: {'; '.join(others) or 'none'}")
        time.sleep(7)
