"""The gateway benchmark's measured runs: wrk's closed loop, the open-loop generator, the fixed rate."""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from bench.gateway_platform import Setup
from bench.gateway_procs import BenchError, Usage, Watched, snapshot
from bench.loadgen import AiohttpSender, RawPool, Result, Sender, Target, closed_loop, open_loop

GOAL_RATE = 2_000.0
GOAL_THROUGHPUT_RATIO = 0.85
GOAL_P99_RATIO = 1.2
GOAL_CPU_S = 100e-6
GOAL_OVERHEAD_VS_NGINX = 2.0
PATHS = ("direct", "gateway", "nginx")
WRK_CONNECTIONS = 32
POOL_CONNECTIONS = 32  # the open-loop generator's keep-alive connections (more open on demand)
SUSTAIN_SHARES = (0.9, 0.8, 0.7, 0.6, 0.5)  # of the direct closed-loop capacity, probed in turn
SUSTAIN_P99_S = 0.020  # a direct p99 above this in a short probe: a queue is building up
PROBE_S = 3.0


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


def wrk_path(setup: Setup, name: str, duration_s: float) -> WrkResult:
    return run_wrk(setup.target(name), duration_s, setup.watched)


def fixed_path(runner: asyncio.Runner, setup: Setup, name: str, rate: float, sizes: Sizes) -> FixedResult:
    return runner.run(fixed_rate(setup.target(name), rate, sizes.warmup_s, sizes.fixed_s, setup.watched))


def choose_rate(
    runner: asyncio.Runner, setup: Setup, wanted: float, direct_capacity: float, forced: float | None
) -> tuple[float, str, list[str]]:
    """The fixed rate: `wanted` if the direct path sustains it, else the highest rate it does.

    Above the direct path's own capacity the open-loop queue grows for the whole run and every path's
    p99 is just the run length; nothing about the gateway can be read from that. So rates from
    `wanted` down through shares of the closed-loop capacity are probed on the direct path (short
    open-loop runs); the first one it sustains is used. --rate forces a rate. Returns the rate, the
    note that explains it, and one line per probe.
    """
    if forced:
        return forced, "", []
    shares = {max(50.0, math.floor(share * direct_capacity / 50) * 50) for share in SUSTAIN_SHARES}
    candidates = [wanted] if wanted <= direct_capacity else []
    candidates += sorted((r for r in shares if r < wanted), reverse=True)
    probes: list[str] = []
    rate = candidates[-1]
    for candidate in candidates:
        result = runner.run(fixed_rate(setup.target("direct"), candidate, 1.0, PROBE_S, setup.watched)).result
        p99 = result.percentile(0.99)
        ok = result.errors == 0 and result.achieved_rate >= 0.98 * candidate and p99 <= SUSTAIN_P99_S
        probes.append(
            f"direct @{candidate:,.0f}/s for {PROBE_S:g} s: achieved {result.achieved_rate:,.0f}/s, "
            f"p99 {p99 * 1e3:.1f} ms: {'sustained' if ok else 'not sustained'}"
        )
        if ok:
            rate = candidate
            break
    if rate == wanted:
        return rate, "", probes
    return (
        rate,
        (
            f"the direct path does not sustain {wanted:,.0f} req/s (closed-loop capacity {direct_capacity:,.0f} "
            f"req/s): measuring at {rate:,.0f} req/s, the highest rate it sustained in a {PROBE_S:g} s probe "
            f"(achieved >= 98 %, p99 <= {SUSTAIN_P99_S * 1e3:.0f} ms); --rate forces a rate"
        ),
        probes,
    )
