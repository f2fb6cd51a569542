"""Gateway benchmark: the same catalogue read direct, through the gateway, and through nginx.

    .venv/bin/python bench/gateway.py [--quick] [--rate N] [--db postgres|sqlite] [--no-wait]
    .venv/bin/python bench/gateway.py --profile     # a separate short run, gateway under cProfile

One run on 127.0.0.1 starts its own PostgreSQL cluster (or SQLite with --db sqlite), migrates and seeds
the Wucheng catalogue, and serves, each in its own process:

  - the catalog service (uvicorn, 1 worker, uvloop + httptools, no access log);
  - the gateway (uvicorn on bench/_gateway_app.py: gateway.main.app() with every route limit x1e6);
  - nginx (1 worker, upstream keepalive) proxying to the service, the reference proxy; a second
    nginx server returns the item's bytes as a static file, to test the load generator itself.

The request is GET of one published item: `/items/{id}` direct and via nginx with the signed internal
identity header (servicekit.identity), `/api/v1/catalog/items/{id}` via the gateway with the Bearer
token of demo client zlb-app. Measured, interleaved direct -> gateway -> nginx:

  1. closed loop, wrk -t1 -c32, 3 x 10 s each: req/s, p50, p99 (medians of the three);
  2. open loop at a fixed 2,000 req/s (--quick: 1,000) for 10 s each after a 2 s warm-up
     (bench/loadgen.py: latency from the intended send time): p50, p99, p99.9, achieved rate;
  3. CPU per request of the gateway, service and nginx from /proc/<pid>/stat around each run.

A goal table with PASS/FAIL follows. Any non-200 answer makes the run invalid. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import functools
import http.client
import json
import math
import os
import platform
import pstats
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import version as dist_version
from pathlib import Path
from types import FrameType
from typing import TypeVar

import sqlalchemy as sa
import uvloop

from catalog.db import MIGRATIONS_DIR
from catalog.seed import load_wucheng
from localinfra.ports import free_ports
from localinfra.postgres import PostgresCluster, start_postgres
from localinfra.proc import die_with_parent
from servicekit.db import make_engine, make_sessionmaker
from servicekit.identity import HEADER as IDENTITY_HEADER
from servicekit.identity import Identity, sign
from servicekit.migrations import upgrade

REPO = Path(__file__).resolve().parents[1]
# `python bench/gateway.py` puts bench/ first on sys.path, where this very file would shadow the
# gateway package; the repository root instead makes `bench.loadgen` importable, as mypy sees it.
if sys.path and Path(sys.path[0]).resolve() == REPO / "bench":
    sys.path[0] = str(REPO)

from bench.loadgen import (  # noqa: E402
    AiohttpSender,
    RawPool,
    Result,
    Sender,
    Target,
    closed_loop,
    open_loop,
    reduce_timer_slack,
)

HOST = "127.0.0.1"
PYTHON = sys.executable
CLIENT_ID = "zlb-app"
CLIENT_SECRET = "demo-zlb-app"  # gateway.demo.demo_secret("zlb-app"): public demo credentials
# What the gateway signs for zlb-app's token (gateway.oauth._identity_of), for direct and nginx calls.
IDENTITY = Identity(kind="system", client_id=CLIENT_ID, scopes=frozenset({"catalog:read"}))
GOAL_RATE = 2_000.0
GOAL_THROUGHPUT_RATIO = 0.85
GOAL_P99_RATIO = 1.2
GOAL_CPU_S = 100e-6
GOAL_OVERHEAD_VS_NGINX = 2.0
WRK_CONNECTIONS = 32
POOL_CONNECTIONS = 32  # the open-loop generator's keep-alive connections (more open on demand)
QUIET_WAIT_S = 900.0  # wait at most this long for bench/bus.py to finish before measuring
QUIET_BUSY_PCT = 15.0  # ... and for the machine to be less busy than this (% of all cores, 3 s sample)
PROFILE_RATE = 300.0  # req/s of the --profile run (the service's own capacity is the limit)
FEASIBLE_SHARE = 0.5  # of the direct closed-loop capacity, when the wanted fixed rate is above it
OUTSIDE_LOAD_WARN = 10.0  # % of the machine used outside the benchmark that makes a run suspect
CLK_TCK = os.sysconf("SC_CLK_TCK")
PATHS = ("direct", "gateway", "nginx")


class BenchError(RuntimeError):
    pass


@dataclass(frozen=True)
class Sizes:
    rate: float
    fixed_s: float
    warmup_s: float
    wrk_s: float
    wrk_rounds: int
    fixed_rounds: int
    time_limit_s: float


FULL = Sizes(GOAL_RATE, 10.0, 2.0, 10.0, 3, 3, 1800.0)
QUICK = Sizes(1_000.0, 5.0, 1.0, 4.0, 3, 1, 900.0)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _time_limit(signum: int, frame: FrameType | None) -> None:
    raise BenchError("the run's time limit passed")


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


@dataclass
class Setup:
    item_id: str
    internal_key: bytes
    service_port: int
    gateway_port: int
    nginx_port: int
    static_port: int
    watched: list[Watched] = field(default_factory=list)
    servers: dict[str, Server] = field(default_factory=dict)
    gateway_env: dict[str, str] = field(default_factory=dict)

    def identity_headers(self) -> dict[str, str]:
        """A freshly signed identity header (valid for servicekit.identity.TTL_S = 60 s)."""
        return {IDENTITY_HEADER: sign(IDENTITY, self.internal_key)}

    def token(self) -> str:
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        status, body = http_request(
            self.gateway_port,
            "POST",
            "/api/v1/auth/token",
            {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
            b"grant_type=client_credentials",
        )
        if status != 200:
            raise BenchError(f"token request refused: {status} {body[:300]!r}")
        token: str = json.loads(body)["access_token"]
        return token

    def target(self, path_name: str) -> Target:
        """The request of one path, with fresh credentials (fetch them outside measured windows)."""
        if path_name == "gateway":
            bearer = {"Authorization": f"Bearer {self.token()}"}
            return Target(HOST, self.gateway_port, f"/api/v1/catalog/items/{self.item_id}", bearer)
        port = {"direct": self.service_port, "nginx": self.nginx_port, "static": self.static_port}[path_name]
        return Target(HOST, port, f"/items/{self.item_id}", self.identity_headers())


# --- setup ---------------------------------------------------------------------------------------


async def seed(url: str) -> tuple[str, str]:
    """Load the Wucheng catalogue; (the item to read, the database's version)."""
    engine = make_engine(url)
    try:
        departments, items = await load_wucheng(make_sessionmaker(engine))
        log(f"seeded {departments} departments and {items} items")
        async with engine.connect() as conn:
            item_id = await conn.scalar(
                sa.text(
                    "SELECT item_id FROM item_version WHERE status = 'published' ORDER BY item_id LIMIT 1"
                )
            )
            if engine.dialect.name == "sqlite":
                version = "SQLite " + str(await conn.scalar(sa.text("SELECT sqlite_version()")))
            else:
                version = "PostgreSQL " + str(await conn.scalar(sa.text("SHOW server_version"))).split()[0]
    finally:
        await engine.dispose()
    if not item_id:
        raise BenchError("no published item after seeding")
    return str(item_id), version


NGINX_CONF = """\
worker_processes 1;
daemon off;
master_process on;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_requests 10000000;
    keepalive_timeout 60s;
    upstream catalog {{
        server {host}:{service};
        keepalive 128;
        keepalive_requests 10000000;
    }}
    server {{
        listen {host}:{proxy};
        location / {{
            proxy_pass http://catalog;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
    server {{
        listen {host}:{static};
        location / {{
            default_type application/json;
            root {d}/www;
            try_files /item.json =404;
        }}
    }}
}}
"""


def start_nginx(stack: contextlib.ExitStack, workdir: Path, setup: Setup, body: bytes) -> Server:
    nginx_dir = workdir / "nginx"
    (nginx_dir / "www").mkdir(parents=True)
    (nginx_dir / "www" / "item.json").write_bytes(body)
    for path in (workdir, nginx_dir, nginx_dir / "www", nginx_dir / "www" / "item.json"):
        path.chmod(0o755)  # nginx's worker runs as nobody when this runs as root
    conf = nginx_dir / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            d=nginx_dir,
            host=HOST,
            service=setup.service_port,
            proxy=setup.nginx_port,
            static=setup.static_port,
        )
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    cmd = [nginx, "-e", str(nginx_dir / "nginx-error.log"), "-p", str(nginx_dir), "-c", str(conf)]
    return start_server(stack, "nginx", cmd, workdir)


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
    """Processes running bench/bus.py (another benchmark on these cores)."""
    own = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != own:
            with contextlib.suppress(OSError):
                if b"bench/bus.py" in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
    return found


def machine_busy_pct(seconds: float = 3.0) -> float:
    """How busy the whole machine is over a short sample, in % of all its cores."""
    busy0, total0 = machine_cpu()
    time.sleep(seconds)
    busy1, total1 = machine_cpu()
    return 100.0 * (busy1 - busy0) / max(total1 - total0, 1e-9)


def wait_for_quiet(limit_s: float) -> str:
    """Wait (bounded) until bench/bus.py has finished and the machine is nearly idle.

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
            return "bench/bus.py RUNNING" if busy else f"machine {load:.0f}% busy before the start"
        if not said:
            what = f"bench/bus.py is running (pids {busy})" if busy else f"the machine is {load:.0f}% busy"
            log(f"{what}; waiting up to {limit_s / 60:.0f} min for it to finish")
            said = True
        time.sleep(5)
    waited = time.monotonic() - started
    return f"waited {waited:.0f} s for quiet" if waited > 5 else "quiet: no bench/bus.py, machine idle"


# --- closed loop: wrk -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrkResult:
    requests: int
    rps: float
    p50: float
    p99: float
    non_2xx: int
    socket_errors: int
    usage: Usage

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _wrk_latency(output: str, percent: int) -> float:
    found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
    return float(found.group(1)) * _UNITS[found.group(2)] if found else math.nan


def run_wrk(target: Target, duration_s: float, watched: list[Watched]) -> WrkResult:
    cmd = ["wrk", "-t1", f"-c{WRK_CONNECTIONS}", f"-d{duration_s:g}s", "--latency", "--timeout", "5s"]
    for name, value in target.headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(target.url)
    before = snapshot(watched)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration_s + 30, check=False)
    usage = Usage.between(before, snapshot(watched))
    out = done.stdout
    requests = re.search(r"(\d+) requests in", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if done.returncode != 0 or requests is None or rps is None:
        raise BenchError(f"wrk failed (exit {done.returncode}):\n{out}\n{done.stderr}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(
        requests=int(requests.group(1)),
        rps=float(rps.group(1)),
        p50=_wrk_latency(out, 50),
        p99=_wrk_latency(out, 99),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in sockets.groups()) if sockets else 0,
        usage=usage,
    )


# --- open loop: bench/loadgen.py ----------------------------------------------------------------


@dataclass(frozen=True)
class FixedResult:
    result: Result
    usage: Usage


async def fixed_rate(
    target: Target,
    rate: float,
    warmup_s: float,
    duration_s: float,
    watched: list[Watched],
    on_measure: Callable[[], None] | None = None,
) -> FixedResult:
    async with RawPool(target, size=POOL_CONNECTIONS) as pool:
        await open_loop(pool, rate, warmup_s)  # warms the pools of every hop; discarded
        if on_measure is not None:
            on_measure()
        before = snapshot(watched)
        result = await open_loop(pool, rate, duration_s)
        usage = Usage.between(before, snapshot(watched))
    return FixedResult(result, usage)


async def generator_self_test(target: Target, rate: float, duration_s: float) -> list[tuple[str, Result]]:
    """The generator alone against nginx's static copy of the item: what it adds, what it can do."""
    results: list[tuple[str, Result]] = []
    senders: list[tuple[str, Callable[[], contextlib.AbstractAsyncContextManager[Sender]]]] = [
        ("raw", lambda: RawPool(target, size=POOL_CONNECTIONS)),
        ("aiohttp", lambda: AiohttpSender(target)),
    ]
    for name, make in senders:
        async with make() as sender:
            await open_loop(sender, rate, 1.0)
            results.append((f"{name} @{rate:.0f}/s", await open_loop(sender, rate, duration_s)))
            results.append((f"{name} closed loop c32", await closed_loop(sender, 20_000, 32)))
    return results


# --- reporting ----------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1e3:.2f} ms"


def signed_ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1e3:+.2f} ms"


def us(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1e6:.0f} µs"


def median(values: list[float]) -> float:
    clean = [v for v in values if not math.isnan(v)]
    return statistics.median(clean) if clean else math.nan


def per_request(usage: Usage, name: str, requests: int) -> float:
    return usage.cpu.get(name, math.nan) / requests if requests else math.nan


def describe_fixed(name: str, fixed: FixedResult) -> str:
    r = fixed.result
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(r.statuses.items()))
    cpu = "  ".join(
        f"{proc} {us(per_request(fixed.usage, proc, r.scheduled))}"
        for proc in ("gateway", "service", "nginx")
        if fixed.usage.cpu.get(proc, 0.0) > 0.005
    )
    return (
        f"{name:8s} p50 {ms(r.percentile(0.5))}  p99 {ms(r.percentile(0.99))}  "
        f"p99.9 {ms(r.percentile(0.999))}  achieved {r.achieved_rate:,.0f}/s  send lag p99 "
        f"{ms(r.lag_percentile(0.99))}  statuses {{{statuses}}}  CPU/req: {cpu}  "
        f"outside {fixed.usage.outside_pct:.0f}%"
    )


def describe_wrk(name: str, w: WrkResult) -> str:
    cpu = "  ".join(
        f"{proc} {us(per_request(w.usage, proc, w.requests))}"
        for proc in ("gateway", "service", "nginx")
        if w.usage.cpu.get(proc, 0.0) > 0.005
    )
    return (
        f"{name:8s} {w.rps:,.0f} req/s  p50 {ms(w.p50)}  p99 {ms(w.p99)}  non-2xx {w.non_2xx}  "
        f"socket errors {w.socket_errors}  CPU/req: {cpu}  outside {w.usage.outside_pct:.0f}%"
    )


@dataclass(frozen=True)
class Row:
    metric: str
    value: str
    goal: str
    ok: bool | None  # None: informative


def print_table(rows: list[Row]) -> None:
    widths = [max(len(getattr(r, col)) for r in rows) for col in ("metric", "value", "goal")]
    header = ("metric", "value", "goal", "result")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=False)]
    line = f"{{:{widths[0]}}} | {{:{widths[1]}}} | {{:{widths[2]}}} | {{}}"
    print(line.format(*header))
    print("-" * (sum(widths) + 16))
    for r in rows:
        result = "" if r.ok is None else "PASS" if r.ok else "FAIL"
        print(line.format(r.metric, r.value, r.goal, result))


# --- the benchmark ------------------------------------------------------------------------------


@contextlib.contextmanager
def platform_up(
    args: argparse.Namespace, workdir: Path, with_nginx: bool, profile_to: Path | None
) -> Iterator[tuple[Setup, str, bytes]]:
    """Database, service, gateway (and nginx) started and checked; all stopped on the way out."""
    with contextlib.ExitStack() as stack:
        watched: list[Watched] = []  # this process (and wrk) is counted apart, as "bench"
        if args.db == "postgres":
            log("starting PostgreSQL (throwaway cluster; the benchmark only reads)")
            cluster: PostgresCluster = start_postgres()
            stack.callback(cluster.close)
            url = cluster.create_database("catalog")
            if cluster.pid is not None:
                watched.append(Watched("postgres", cluster.pid, tree=True))
        else:
            url = f"sqlite+aiosqlite:///{workdir / 'catalog.db'}"
        log("migrating and seeding the catalogue")
        upgrade(MIGRATIONS_DIR, url)
        item_id, db_version = asyncio.run(seed(url))
        service_port, gateway_port, nginx_port, static_port = free_ports(4)
        setup = Setup(
            item_id, secrets.token_hex(32).encode(), service_port, gateway_port, nginx_port, static_port
        )
        setup.watched = watched

        clients = workdir / "clients.json"
        subprocess.run(
            [PYTHON, "-m", "gateway.demo", str(clients)],
            cwd=REPO,
            check=True,
            timeout=120,
            capture_output=True,
        )
        env = dict(os.environ)
        service = start_server(
            stack,
            "service",
            uvicorn_cmd("catalog.main:app", service_port),
            workdir,
            {**env, "CATALOG_DATABASE_URL": url, "CATALOG_INTERNAL_TOKEN_KEY": setup.internal_key.decode()},
        )
        gateway_env = {
            **env,
            "GATEWAY_CATALOG_URL": f"http://{HOST}:{service_port}",
            "GATEWAY_INTERNAL_TOKEN_KEY": setup.internal_key.decode(),
            "GATEWAY_CLIENTS_FILE": str(clients),
            "GATEWAY_KEYS_DIR": str(workdir / "keys"),
        }
        gateway_cmd = uvicorn_cmd("bench._gateway_app:app", gateway_port)
        if profile_to is not None:
            gateway_cmd = [
                PYTHON, "-m", "bench._gateway_app", "--profile-out", str(profile_to), "--port", str(gateway_port),
            ]  # fmt: skip
        gateway = start_server(stack, "gateway", gateway_cmd, workdir, gateway_env)
        wait_ready(service, service_port, "/healthz")
        wait_ready(gateway, gateway_port, "/healthz")
        watched += [Watched("service", service.pid), Watched("gateway", gateway.pid)]
        setup.servers.update(service=service, gateway=gateway)
        setup.gateway_env = gateway_env

        direct = setup.target("direct")
        status, body = http_request(service_port, "GET", direct.path, direct.headers)
        if status != 200:
            raise BenchError(f"direct GET {direct.path}: {status} {body[:300]!r}")
        via_gateway = setup.target("gateway")
        status, gw_body = http_request(gateway_port, "GET", via_gateway.path, via_gateway.headers)
        if status != 200 or json.loads(gw_body) != json.loads(body):
            raise BenchError(f"gateway GET {via_gateway.path}: {status} {gw_body[:300]!r}")
        if with_nginx:
            nginx = start_nginx(stack, workdir, setup, body)
            wait_ready(nginx, static_port, "/")
            watched.append(Watched("nginx", nginx.pid, tree=True))
            for name in ("nginx", "static"):
                target = setup.target(name)
                status, other = http_request(target.port, "GET", target.path, target.headers)
                if status != 200 or json.loads(other) != json.loads(body):
                    raise BenchError(f"{name} GET {target.path}: {status} {other[:300]!r}")
        log(f"item {item_id}: {len(body):,} bytes of JSON, the same on every path")
        yield setup, db_version, body


def wrk_path(setup: Setup, name: str, duration_s: float) -> WrkResult:
    return run_wrk(setup.target(name), duration_s, setup.watched)


def fixed_path(runner: asyncio.Runner, setup: Setup, name: str, rate: float, sizes: Sizes) -> FixedResult:
    return runner.run(fixed_rate(setup.target(name), rate, sizes.warmup_s, sizes.fixed_s, setup.watched))


def run_benchmark(args: argparse.Namespace, sizes: Sizes, quiet_note: str) -> int:
    load_at_start = " ".join(f"{v:.2f}" for v in os.getloadavg())
    with (
        tempfile.TemporaryDirectory(prefix="bench-gw-") as tmp,
        platform_up(args, Path(tmp), True, None) as (
            setup,
            db_version,
            _body,
        ),
    ):
        watched = setup.watched
        machine = (
            f"machine: {os.cpu_count()} cores, load average at start {load_at_start} ({quiet_note}) | "
            f"Python {platform.python_version()} | {tool_versions()} | {db_version} | "
            f"uvicorn {dist_version('uvicorn')} (uvloop {dist_version('uvloop')}, httptools "
            f"{dist_version('httptools')}), aiohttp {dist_version('aiohttp')}, fastapi {dist_version('fastapi')}"
        )
        print(machine, flush=True)
        reduce_timer_slack()
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            log(f"closed loop: wrk -t1 -c{WRK_CONNECTIONS}, {sizes.wrk_rounds} x {sizes.wrk_s:g} s per path")
            for name in PATHS:  # warm-up, discarded
                run_wrk(setup.target(name), sizes.warmup_s, watched)
            wrk: dict[str, list[WrkResult]] = {name: [] for name in PATHS}
            for round_no in range(1, sizes.wrk_rounds + 1):
                for name in PATHS:
                    result = measured(
                        functools.partial(wrk_path, setup, name, sizes.wrk_s),
                        lambda w: w.usage,
                        f"wrk {name}",
                    )
                    wrk[name].append(result)
                    print(f"  wrk round {round_no} {describe_wrk(name, result)}", flush=True)

            rate, rate_note = choose_rate(
                sizes.rate, median([w.rps for w in wrk["direct"]]), forced=args.rate
            )
            if rate_note:
                log(rate_note)
            log(f"generator self-test against nginx's static copy, {rate:,.0f}/s for {sizes.fixed_s:g} s")
            self_test = runner.run(generator_self_test(setup.target("static"), rate, sizes.fixed_s))
            for name, r in self_test:
                offered = f"offered {r.rate:,.0f}/s, " if r.rate else ""
                print(
                    f"  generator {name:22s} {offered}achieved {r.achieved_rate:,.0f}/s  p50 "
                    f"{ms(r.percentile(0.5))}  p99 {ms(r.percentile(0.99))}  p99.9 {ms(r.percentile(0.999))}"
                    f"  send lag p99 {ms(r.lag_percentile(0.99))}  errors {r.errors}  generator CPU "
                    f"{us(r.cpu_per_request_s)}/req  pacing: {r.pacing}",
                    flush=True,
                )

            log(f"open loop: {rate:,.0f} req/s, {sizes.fixed_rounds} x {sizes.fixed_s:g} s per path")
            fixed: dict[str, list[FixedResult]] = {name: [] for name in PATHS}
            for round_no in range(1, sizes.fixed_rounds + 1):
                for name in PATHS:
                    result_f = measured(
                        functools.partial(fixed_path, runner, setup, name, rate, sizes),
                        lambda f: f.usage,
                        f"fixed-rate {name}",
                    )
                    fixed[name].append(result_f)
                    print(f"  fixed round {round_no} {describe_fixed(name, result_f)}", flush=True)
        return report(machine, sizes, rate, rate_note, wrk, fixed, self_test)


def choose_rate(wanted: float, direct_capacity: float, forced: float | None) -> tuple[float, str]:
    """The fixed rate: `wanted`, unless the service itself cannot take it (then half its capacity).

    Above the direct path's own capacity the open-loop queue grows for the whole run and every path's
    p99 is just the run length; nothing about the gateway can be read from that. --rate forces it.
    """
    if forced or wanted <= FEASIBLE_SHARE * direct_capacity:
        return wanted, ""
    rate = max(50.0, math.floor(FEASIBLE_SHARE * direct_capacity / 50) * 50)
    return rate, (
        f"the fixed rate {wanted:,.0f} req/s is above what the service itself can take ({direct_capacity:,.0f} "
        f"req/s direct, closed loop): measuring at {rate:,.0f} req/s ({FEASIBLE_SHARE:.0%} of it) instead; "
        "--rate forces a rate"
    )


SEEN_OTHERS: set[int] = set()
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
    """Remember any bench/bus.py that runs while this measures (reported at the end)."""
    SEEN_OTHERS.update(other_benchmarks())


def report(
    machine: str,
    sizes: Sizes,
    fixed_rate_used: float,
    rate_note: str,
    wrk: dict[str, list[WrkResult]],
    fixed: dict[str, list[FixedResult]],
    self_test: list[tuple[str, Result]],
) -> int:
    rps = {n: median([w.rps for w in wrk[n]]) for n in PATHS}
    wrk_p50 = {n: median([w.p50 for w in wrk[n]]) for n in PATHS}
    wrk_p99 = {n: median([w.p99 for w in wrk[n]]) for n in PATHS}

    def pct(name: str, q: float) -> float:
        return median([f.result.percentile(q) for f in fixed[name]])

    p50 = {n: pct(n, 0.5) for n in PATHS}
    p99 = {n: pct(n, 0.99) for n in PATHS}
    p999 = {n: pct(n, 0.999) for n in PATHS}
    achieved = {n: median([f.result.achieved_rate for f in fixed[n]]) for n in PATHS}
    cpu_fixed = {
        (path, proc): median([per_request(f.usage, proc, f.result.scheduled) for f in fixed[path]])
        for path in PATHS
        for proc in ("gateway", "service", "nginx", "postgres", "bench")
    }
    cpu_wrk = {
        (path, proc): median([per_request(w.usage, proc, w.requests) for w in wrk[path]])
        for path in PATHS
        for proc in ("gateway", "service", "nginx", "postgres", "bench")
    }
    errors = {n: sum(w.errors for w in wrk[n]) + sum(f.result.errors for f in fixed[n]) for n in PATHS}
    rate = f"@{fixed_rate_used:,.0f} req/s"

    info = [
        Row(f"{n} req/s (wrk -c{WRK_CONNECTIONS}, median of {sizes.wrk_rounds})", f"{rps[n]:,.0f}", "", None)
        for n in PATHS
    ]
    info += [
        Row(f"{n} p50 / p99 (wrk, closed loop)", f"{ms(wrk_p50[n])} / {ms(wrk_p99[n])}", "", None)
        for n in PATHS
    ]
    info += [
        Row(
            f"{n} p50 / p99 / p99.9 {rate} (achieved)",
            f"{ms(p50[n])} / {ms(p99[n])} / {ms(p999[n])} ({achieved[n]:,.0f}/s)",
            "",
            None,
        )
        for n in PATHS
    ]
    info += [
        Row("nginx / direct throughput", f"{rps['nginx'] / rps['direct']:.2f}", "", None),
        Row(f"service CPU/req direct {rate}", us(cpu_fixed[("direct", "service")]), "", None),
        Row(f"service CPU/req via gateway {rate}", us(cpu_fixed[("gateway", "service")]), "", None),
        Row(f"nginx CPU/req {rate}", us(cpu_fixed[("nginx", "nginx")]), "", None),
        Row("gateway CPU/req, saturated (wrk)", us(cpu_wrk[("gateway", "gateway")]), "", None),
        Row("service CPU/req, saturated direct (wrk)", us(cpu_wrk[("direct", "service")]), "", None),
        Row("nginx CPU/req, saturated (wrk)", us(cpu_wrk[("nginx", "nginx")]), "", None),
        Row(f"load generator CPU/req {rate}", us(cpu_fixed[("gateway", "bench")]), "", None),
    ]
    if cpu_fixed[("direct", "postgres")] > 0:
        info.append(Row(f"PostgreSQL CPU/req {rate}", us(cpu_fixed[("direct", "postgres")]), "", None))
    # The goals use the medians of all rounds; this shows them over the quiet rounds alone, because a
    # round disturbed by other work can move one path's p99 by milliseconds.
    quiet = {
        n: [f.result.percentile(0.99) for f in fixed[n] if f.usage.outside_pct <= OUTSIDE_LOAD_WARN]
        for n in PATHS
    }
    if all(quiet.values()):
        q99 = {n: median(quiet[n]) for n in PATHS}
        info.append(
            Row(
                f"p99 direct / gateway / nginx {rate}, quiet rounds only (outside <= {OUTSIDE_LOAD_WARN:.0f}%)",
                f"{ms(q99['direct'])} / {ms(q99['gateway'])} / {ms(q99['nginx'])} (rounds: "
                f"{', '.join(str(len(quiet[n])) for n in PATHS)}); gateway/direct "
                f"{q99['gateway'] / q99['direct']:.2f}, overhead {signed_ms(q99['gateway'] - q99['direct'])} "
                f"vs nginx {signed_ms(q99['nginx'] - q99['direct'])}",
                "",
                None,
            )
        )
    else:
        info.append(Row(f"p99 {rate}, quiet rounds only", "n/a: some path has no quiet round", "", None))
    info += [Row(f"non-200 answers, {n}", str(errors[n]), "0", errors[n] == 0) for n in PATHS]

    throughput = rps["gateway"] / rps["direct"]
    p99_ratio = p99["gateway"] / p99["direct"]
    cpu = cpu_fixed[("gateway", "gateway")]
    gw_over = p99["gateway"] - p99["direct"]
    ng_over = p99["nginx"] - p99["direct"]
    over_ratio = f"{gw_over / ng_over:.1f}x" if ng_over > 0 else "nginx adds nothing measurable"
    goals = [
        Row(
            "gateway / direct throughput (wrk, medians)",
            f"{throughput:.2f} ({rps['gateway']:,.0f} / {rps['direct']:,.0f} req/s)",
            f">= {GOAL_THROUGHPUT_RATIO}",
            throughput >= GOAL_THROUGHPUT_RATIO,
        ),
        Row(
            f"gateway p99 / direct p99 {rate}",
            f"{p99_ratio:.2f} ({ms(p99['gateway'])} / {ms(p99['direct'])})",
            f"<= {GOAL_P99_RATIO} (at {GOAL_RATE:,.0f}/s)",
            p99_ratio <= GOAL_P99_RATIO,
        ),
        Row(
            f"gateway CPU per request {rate}",
            us(cpu),
            f"<= {us(GOAL_CPU_S)}",
            cpu <= GOAL_CPU_S,
        ),
        Row(
            f"gateway p99 overhead vs nginx's {rate}",
            f"{signed_ms(gw_over)} vs {signed_ms(ng_over)} ({over_ratio})",
            f"<= {GOAL_OVERHEAD_VS_NGINX:g}x nginx's",
            gw_over <= GOAL_OVERHEAD_VS_NGINX * ng_over,
        ),
    ]
    print()
    print(machine)
    print(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for name, r in self_test:
        if r.rate:
            print(
                f"load generator alone ({name}, nginx static): p50 {ms(r.percentile(0.5))}, p99 "
                f"{ms(r.percentile(0.99))}, p99.9 {ms(r.percentile(0.999))}, "
                f"{us(r.cpu_per_request_s)} CPU/req"
            )
        else:
            print(f"load generator alone ({name}, nginx static): {r.achieved_rate:,.0f} req/s")
    print()
    print_table(info)
    print()
    print_table(goals)
    print()
    notes = []
    if rate_note:
        notes.append(f"NOTE: {rate_note}.")
    if fixed_rate_used != GOAL_RATE:
        notes.append(
            f"NOTE: the latency and CPU goals are defined at {GOAL_RATE:,.0f} req/s; this run measured {rate}."
        )
    for n in PATHS:
        if achieved[n] < 0.98 * fixed_rate_used:
            notes.append(
                f"NOTE: {n} achieved only {achieved[n]:,.0f} of {fixed_rate_used:,.0f} req/s: saturated, "
                "its latencies are the queue's, not the path's."
            )
    if SEEN_OTHERS:
        notes.append(f"WARNING: bench/bus.py ran during the measurements (pids {sorted(SEEN_OTHERS)}).")
    suspect = [
        f"{kind} {n} round {i + 1} ({u.outside_pct:.0f}%)"
        for kind, runs in (("wrk", {n: [w.usage for w in wrk[n]] for n in PATHS}),
                           ("fixed", {n: [f.usage for f in fixed[n]] for n in PATHS}))
        for n in PATHS
        for i, u in enumerate(runs[n])
        if u.outside_pct > OUTSIDE_LOAD_WARN
    ]  # fmt: skip
    if suspect:
        notes.append(
            "WARNING: work outside the benchmark took over 10% of the machine during: " + ", ".join(suspect)
        )
    for note in notes:
        print(note)
    invalid = any(errors.values())
    failed = [g for g in goals if not g.ok]
    if invalid:
        print("INVALID RUN: some answers were not 200 (see the rows above)")
    print(f"{len(failed)} goal(s) missed" if failed else "all goals met")
    return 1 if invalid or failed else 0


# --- the profile run --------------------------------------------------------------------------

PROFILE_GROUPS = (
    ("token verify (PyJWT, cryptography)", ("/jwt/", "cryptography")),
    ("identity header (servicekit.identity, hmac, json)", ("servicekit/identity", "/hmac.py", "/json/")),
    ("upstream client (aiohttp, yarl, multidict)", ("/aiohttp/", "/yarl/", "/multidict/")),
    ("metrics (prometheus_client)", ("prometheus_client",)),
    ("server (uvicorn, httptools)", ("/uvicorn/",)),
    ("gateway code", ("gateway/src/gateway",)),
    ("request id, problems (servicekit)", ("servicekit/",)),
    ("asyncio, uvloop", ("/asyncio/", "uvloop")),
    ("builtins and C methods", ("~",)),
)


def micro_costs() -> list[tuple[str, float]]:
    """CPU per call of the gateway's per-request crypto, in this process (no profiler, no load)."""
    from gateway.keys import KeySet
    from gateway.tokens import TokenIssuer

    issuer = TokenIssuer(
        KeySet.load_or_create(None, retain_s=600), issuer="bench", audience="bench", ttl_s=900
    )
    token = issuer.issue(IDENTITY)
    key = secrets.token_bytes(32)
    public = issuer.keys.current.public
    signing_input, _, signature = token.rpartition(".")
    raw_signature = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))

    def cost(call: Callable[[], object], count: int = 2_000) -> float:
        call()
        started = time.process_time()
        for _ in range(count):
            call()
        return (time.process_time() - started) / count

    return [
        ("TokenIssuer.verify (whole)", cost(lambda: issuer.verify(token))),
        (
            "  of which Ed25519 signature check alone",
            cost(lambda: public.verify(raw_signature, signing_input.encode())),
        ),
        ("servicekit.identity.sign", cost(lambda: sign(IDENTITY, key))),
    ]


def run_profile(args: argparse.Namespace, sizes: Sizes) -> int:
    """Where the gateway's CPU goes: gateway vs its bare transport, crypto costs, then cProfile."""
    rate = args.rate or PROFILE_RATE
    with tempfile.TemporaryDirectory(prefix="bench-gw-prof-") as tmp:
        out = Path(tmp) / "gateway.prof"
        with (
            platform_up(args, Path(tmp), False, out) as (setup, _db, _body),
            contextlib.ExitStack() as stack,
            asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
        ):
            reduce_timer_slack()
            gateway = setup.servers["gateway"]
            (bare_port,) = free_ports(1)
            bare = start_server(
                stack, "bare", uvicorn_cmd("bench._gateway_app:bare", bare_port), Path(tmp), setup.gateway_env
            )
            wait_ready(bare, bare_port, "/")
            watched = [*setup.watched, Watched("bare", bare.pid)]
            bare_target = Target(
                HOST, bare_port, f"/api/v1/catalog/items/{setup.item_id}", setup.identity_headers()
            )
            log(f"gateway and bare transport (uvicorn + HttpUpstream only) at {rate:,.0f} req/s, no profiler")
            plain = runner.run(
                fixed_rate(setup.target("gateway"), rate, sizes.warmup_s, sizes.fixed_s, watched)
            )
            print(f"  {describe_fixed('gateway', plain)}")
            transport = runner.run(fixed_rate(bare_target, rate, sizes.warmup_s, sizes.fixed_s, watched))
            bare_cpu = per_request(transport.usage, "bare", transport.result.scheduled)
            print(f"  {describe_fixed('bare', transport)}  bare proxy CPU/req {us(bare_cpu)}")
            bare.stop()
            print("in-process CPU per call:")
            for name, seconds in micro_costs():
                print(f"  {name:45s} {us(seconds)}")

            log(f"the gateway under cProfile (CPU time) at {rate:,.0f} req/s for {sizes.fixed_s:g} s")
            profiled = runner.run(
                fixed_rate(
                    setup.target("gateway"),
                    rate,
                    sizes.warmup_s,
                    sizes.fixed_s,
                    setup.watched,
                    on_measure=lambda: os.kill(gateway.pid, signal.SIGUSR1),
                )
            )
            print(f"  under cProfile: {describe_fixed('gateway', profiled)}")
            # uvicorn re-raises the signal after its shutdown: SIGINT's KeyboardInterrupt still lets
            # the profile be written (SIGTERM's default action would end the process first).
            gateway.stop(timeout=30, sig=signal.SIGINT)
        if not out.exists():
            raise BenchError("the profiled gateway wrote no profile")
        stats = pstats.Stats(str(out))
        entries = stats.stats  # type: ignore[attr-defined]
        total = sum(v[2] for v in entries.values())
        groups = dict.fromkeys([g for g, _ in PROFILE_GROUPS] + ["other"], 0.0)
        for (filename, _line, _func), (_cc, _nc, tottime, _ct, _callers) in entries.items():
            group = next((g for g, keys in PROFILE_GROUPS if any(k in filename for k in keys)), "other")
            groups[group] += tottime
        requests = profiled.result.scheduled
        print(
            f"\nCPU self time by area over {requests:,} requests, {us(total / requests)}/req in all "
            "(cProfile's overhead inflates Python-heavy areas; C calls such as the Ed25519 verify much less):"
        )
        for group, seconds in sorted(groups.items(), key=lambda kv: -kv[1]):
            print(f"  {group:52s} {100 * seconds / total:5.1f}%  {us(seconds / requests)}/req")
        print()
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(30)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1,000 req/s, shorter runs (about 2 minutes)")
    parser.add_argument(
        "--rate", type=float, help=f"fixed rate in req/s (default {GOAL_RATE:.0f}; --quick 1000)"
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for bench/bus.py to finish")
    parser.add_argument("--profile", action="store_true", help="only a short profile run of the gateway")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    if args.rate:
        sizes = dataclasses.replace(sizes, rate=args.rate)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        check_tools()
        quiet_note = "not waited (--no-wait)" if args.no_wait else wait_for_quiet(QUIET_WAIT_S)
        signal.signal(signal.SIGALRM, _time_limit)
        signal.alarm(int(sizes.time_limit_s))
        try:
            if args.profile:
                return run_profile(args, sizes)
            return run_benchmark(args, sizes, quiet_note)
        finally:
            signal.alarm(0)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: everything started was stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
