"""Gateway benchmark: the same catalogue read direct, through the gateway, and through nginx.

    .venv/bin/python bench/gateway.py [--quick] [--rate N] [--db postgres|sqlite] [--no-wait]
    .venv/bin/python bench/gateway.py --profile     # a separate short run, gateway under cProfile

One run on 127.0.0.1 starts its own PostgreSQL cluster (or SQLite with --db sqlite), migrates and seeds
the Wucheng catalogue, and serves, each in its own process:

  - the catalog service (uvicorn, 1 worker, uvloop + httptools, no access log);
  - the gateway (uvicorn on gateway.main:app, GATEWAY_RATE_FACTOR=1e6 so no route limit is reached);
  - nginx (1 worker, upstream keepalive) proxying to the service, the reference proxy; a second
    nginx server returns the item's bytes as a static file, to test the load generator itself.

The request is GET of one published item: `/items/{id}` direct and via nginx with the signed internal
identity header (servicekit.identity), `/api/v1/catalog/items/{id}` via the gateway with the Bearer
token of demo client zlb-app. Measured, interleaved direct -> gateway -> nginx:

  1. closed loop, wrk -t1 -c32, 3 x 10 s each: req/s, p50, p99 (medians of the three);
  2. open loop at a fixed 2,000 req/s (--quick: 1,000), or the highest rate the direct path sustains
     when that is less, for 10 s each after a 2 s warm-up (bench/loadgen.py: latency from the
     intended send time): p50, p99, p99.9, achieved rate;
  3. CPU per request of the gateway, service and nginx from /proc/<pid>/stat around each run.

A goal table with PASS/FAIL follows. Any non-200 answer makes the run invalid. See bench/README.md.
The parts: gateway_procs (processes, CPU), gateway_platform (what runs), gateway_runs (wrk, open
loop, the rate), gateway_report (output), gateway_profile (--profile).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import os
import platform
import signal
import sys
import tempfile
from importlib.metadata import version as dist_version
from pathlib import Path
from types import FrameType

import uvloop

REPO = Path(__file__).resolve().parents[1]
# `python bench/gateway.py` puts bench/ first on sys.path, where this very file would shadow the
# gateway package; the repository root instead makes `bench.*` importable, as mypy sees it.
if sys.path and Path(sys.path[0]).resolve() == REPO / "bench":
    sys.path[0] = str(REPO)

from bench.gateway_platform import platform_up  # noqa: E402
from bench.gateway_procs import (  # noqa: E402
    QUIET_WAIT_S,
    BenchError,
    check_tools,
    log,
    measured,
    tool_versions,
    wait_for_quiet,
)
from bench.gateway_profile import run_profile  # noqa: E402
from bench.gateway_report import describe_fixed, describe_wrk, median, ms, report, us  # noqa: E402
from bench.gateway_runs import (  # noqa: E402
    FULL,
    GOAL_RATE,
    PATHS,
    QUICK,
    WRK_CONNECTIONS,
    FixedResult,
    Sizes,
    WrkResult,
    choose_rate,
    fixed_path,
    generator_self_test,
    run_wrk,
    wrk_path,
)
from bench.loadgen import reduce_timer_slack  # noqa: E402


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


class TimeLimitPassed(KeyboardInterrupt):
    """A KeyboardInterrupt, because event loops re-raise only those from their callbacks: an
    ordinary exception raised by the alarm inside one would be logged and the run would go on."""


def _time_limit(signum: int, frame: FrameType | None) -> None:
    raise TimeLimitPassed("the run's time limit passed")


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
            f"{dist_version('httptools')}), fastapi {dist_version('fastapi')}, redis-py {dist_version('redis')}"
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

            direct_capacity = median([w.rps for w in wrk["direct"]])
            rate, rate_note, probes = choose_rate(
                runner, setup, sizes.rate, direct_capacity, forced=args.rate
            )
            for line in probes:
                print(f"  rate probe {line}", flush=True)
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
        return report(machine, sizes, rate, rate_note, probes, wrk, fixed, self_test)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1,000 req/s, shorter runs (about 2 minutes)")
    parser.add_argument(
        "--rate", type=float, help=f"fixed rate in req/s (default {GOAL_RATE:.0f}; --quick 1000)"
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for other benchmarks to finish")
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
    except (BenchError, TimeLimitPassed) as exc:
        print(f"error: {exc}; everything started was stopped", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: everything started was stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
