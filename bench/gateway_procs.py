"""The gateway benchmark's processes: starting and stopping them, their CPU from /proc, waiting for quiet."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from localinfra.proc import die_with_parent

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
PYTHON = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")
QUIET_WAIT_S = 900.0  # wait at most this long for other benchmarks to finish before measuring
QUIET_BUSY_PCT = 15.0  # ... and for the machine to be less busy than this (% of all cores, 3 s sample)
OUTSIDE_LOAD_WARN = 10.0  # % of the machine used outside the benchmark that makes a run suspect
SEEN_OTHERS: set[int] = set()  # other benchmarks' processes seen while measuring (reported at the end)
_BENCH_SCRIPT = re.compile(rb"(^|[\x00/])bench/[a-z_]+\.py\x00")  # the script argument of a benchmark


class BenchError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- processes and CPU accounting -------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # [0] is field 3 (state): the name may contain spaces


def process_cpu_s(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds; 0 when it is gone."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / CLK_TCK if fields else 0.0


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None and fields[1] == str(pid):
                found.append(int(entry.name))
    return found


@dataclass(frozen=True)
class Watched:
    """A process whose CPU is measured; with `tree`, its direct children too (nginx, PostgreSQL)."""

    name: str
    pid: int
    tree: bool = False

    def cpu_s(self) -> float:
        pids = [self.pid, *(children_of(self.pid) if self.tree else [])]
        return sum(process_cpu_s(pid) for pid in pids)


@dataclass(frozen=True)
class Snapshot:
    wall: float
    cpu: dict[str, float]
    own: float  # this process and its waited-for children (wrk)
    busy: float  # the whole machine, seconds of CPU
    total: float


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK


def snapshot(watched: list[Watched]) -> Snapshot:
    times = os.times()
    busy, total = machine_cpu()
    return Snapshot(
        wall=time.monotonic(),
        cpu={w.name: w.cpu_s() for w in watched},
        own=times.user + times.system + times.children_user + times.children_system,
        busy=busy,
        total=total,
    )


@dataclass(frozen=True)
class Usage:
    wall: float
    cpu: dict[str, float]  # seconds per watched process, and "bench" (this process + wrk)
    outside_pct: float  # of the whole machine, used by anything else

    @staticmethod
    def between(before: Snapshot, after: Snapshot) -> Usage:
        cpu = {name: after.cpu[name] - before.cpu[name] for name in before.cpu}
        cpu["bench"] = after.own - before.own
        busy = after.busy - before.busy
        total = after.total - before.total
        outside = max(0.0, busy - sum(cpu.values()))
        return Usage(after.wall - before.wall, cpu, 100.0 * outside / total if total > 0 else 0.0)


@dataclass
class Server:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 15.0, sig: signal.Signals = signal.SIGTERM) -> None:
        if self.alive():
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def start_server(
    stack: contextlib.ExitStack,
    name: str,
    cmd: list[str],
    workdir: Path,
    env: Mapping[str, str] | None = None,
) -> Server:
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as out:
        popen = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
    server = Server(name, popen, log_path)
    stack.callback(server.stop)
    return server


def uvicorn_cmd(factory: str, port: int) -> list[str]:
    return [
        PYTHON, "-m", "uvicorn", "--factory", factory, "--host", HOST, "--port", str(port),
        "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


# --- HTTP helpers (setup and checks only; the load comes from wrk and bench/loadgen.py) ---------


def http_request(
    port: int, method: str, path: str, headers: Mapping[str, str], body: bytes | None = None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=dict(headers))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_ready(server: Server, port: int, path: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not server.alive():
            raise BenchError(f"{server.name} exited during start:\n{server.log_tail()}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            status, _ = http_request(port, "GET", path, {})
            if status < 500:
                return
        time.sleep(0.1)
    raise BenchError(f"{server.name} not ready on port {port} within {timeout_s:.0f} s:\n{server.log_tail()}")


def tool_versions() -> str:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    nginx_v = subprocess.run([nginx, "-v"], capture_output=True, text=True, timeout=10, check=False)
    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10, check=False)
    nginx_text = (nginx_v.stderr or nginx_v.stdout).strip().replace("nginx version: ", "")
    wrk_text = (wrk_v.stdout or wrk_v.stderr).strip().splitlines()[0].split(" [")[0]
    return f"{nginx_text}, {wrk_text}"


def check_tools() -> None:
    missing = [
        tool
        for tool in ("nginx", "wrk")
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists()
    ]
    if missing:
        raise BenchError(
            f"missing {' and '.join(missing)}: install the Debian packages first "
            f"(apt-get install -y {' '.join(missing)})"
        )


def other_benchmarks() -> list[int]:
    """Processes running another bench/*.py (another benchmark on these cores)."""
    own = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != own:
            with contextlib.suppress(OSError):
                if _BENCH_SCRIPT.search((entry / "cmdline").read_bytes()):
                    found.append(int(entry.name))
    return found


def machine_busy_pct(seconds: float = 3.0) -> float:
    """How busy the whole machine is over a short sample, in % of all its cores."""
    busy0, total0 = machine_cpu()
    time.sleep(seconds)
    busy1, total1 = machine_cpu()
    return 100.0 * (busy1 - busy0) / max(total1 - total0, 1e-9)


def wait_for_quiet(limit_s: float) -> str:
    """Wait (bounded) until other benchmarks have finished and the machine is nearly idle.

    Returns the note for the machine line. Other work on these two cores depresses every figure.
    """
    deadline = time.monotonic() + limit_s
    started = time.monotonic()
    said = False
    while True:
        busy = other_benchmarks()
        load = machine_busy_pct()
        if not busy and load < QUIET_BUSY_PCT:
            break
        if time.monotonic() > deadline:
            log(
                f"WARNING: still not quiet after {limit_s / 60:.0f} min; measuring anyway (figures depressed)"
            )
            return "another benchmark RUNNING" if busy else f"machine {load:.0f}% busy before the start"
        if not said:
            what = (
                f"another benchmark is running (pids {busy})" if busy else f"the machine is {load:.0f}% busy"
            )
            log(f"{what}; waiting up to {limit_s / 60:.0f} min for it to finish")
            said = True
        time.sleep(5)
    waited = time.monotonic() - started
    return f"waited {waited:.0f} s for quiet" if waited > 5 else "quiet: no other benchmark, machine idle"


NOISY_RETRIES = 2  # a run during which other work took > OUTSIDE_LOAD_WARN % is repeated this often
T = TypeVar("T")


def measured(run: Callable[[], T], usage: Callable[[T], Usage], what: str) -> T:
    """One measured run, repeated (bounded) when other work on the machine took a big share of it."""
    for attempt in range(NOISY_RETRIES + 1):
        note_other_benchmarks()
        result = run()
        outside = usage(result).outside_pct
        if outside <= OUTSIDE_LOAD_WARN or attempt == NOISY_RETRIES:
            return result
        log(f"{what}: {outside:.0f}% of the machine went to other work; repeating it when quieter")
        deadline = time.monotonic() + 60
        while machine_busy_pct(2.0) > QUIET_BUSY_PCT and time.monotonic() < deadline:
            pass
    raise AssertionError("unreachable")


def note_other_benchmarks() -> None:
    """Remember any other benchmark that runs while this measures (reported at the end)."""
    SEEN_OTHERS.update(other_benchmarks())
