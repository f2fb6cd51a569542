"""`bench/gateway.py --profile`: where the gateway's CPU goes (bare transport, crypto and caches, cProfile)."""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import logging
import math
import os
import pstats
import secrets
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import uvloop

from bench.gateway_platform import IDENTITY, platform_up
from bench.gateway_procs import HOST, BenchError, Watched, log, start_server, uvicorn_cmd, wait_ready
from bench.gateway_report import describe_fixed, per_request, us
from bench.gateway_runs import Sizes, fixed_rate
from bench.loadgen import Target, reduce_timer_slack
from localinfra.ports import free_ports
from servicekit.identity import sign

PROFILE_RATE = 300.0  # req/s of the --profile run (the service's own capacity is the limit)
BARE = (  # the transport alone: the gateway's upstream client, and aiohttp's (bench/_gateway_app.py)
    ("bare", "bench._gateway_app:bare"),
    ("bare-aiohttp", "bench._gateway_app:bare_aiohttp"),
)


# --- the profile run --------------------------------------------------------------------------

PROFILE_GROUPS = (
    ("token verify (PyJWT, cryptography)", ("/jwt/", "cryptography")),
    ("identity header (servicekit.identity, hmac, json)", ("servicekit/identity", "/hmac.py", "/json/")),
    ("upstream client (gateway.httpclient)", ("gateway/httpclient", "gateway/upstreams")),
    ("metrics (prometheus_client)", ("prometheus_client",)),
    ("server (uvicorn, httptools)", ("/uvicorn/",)),
    ("gateway code", ("gateway/src/gateway",)),
    ("request id, problems (servicekit)", ("servicekit/",)),
    ("asyncio, uvloop", ("/asyncio/", "uvloop")),
    ("builtins and C methods", ("~",)),
)


def micro_costs() -> list[tuple[str, float]]:
    """CPU per call of the gateway's per-request steps, in this process (no profiler, no load)."""
    from gateway.keys import KeySet
    from gateway.ratelimit import MemoryRateLimiter
    from gateway.tokencache import TokenCache
    from gateway.tokens import TokenIssuer

    issuer = TokenIssuer(
        KeySet.load_or_create(None, retain_s=600), issuer="bench", audience="bench", ttl_s=900
    )
    token = issuer.issue(IDENTITY)
    key = secrets.token_bytes(32)
    public = issuer.keys.current.public
    signing_input, _, signature = token.rpartition(".")
    raw_signature = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    cache = TokenCache(issuer, key)
    entry = cache.verify(token)
    memory = MemoryRateLimiter()
    return [
        ("TokenIssuer.verify (whole, uncached)", _cost(lambda: issuer.verify(token))),
        (
            "  of which Ed25519 signature check alone",
            _cost(lambda: public.verify(raw_signature, signing_input.encode())),
        ),
        ("TokenCache.verify, token cached", _cost(lambda: cache.verify(token))),
        ("servicekit.identity.sign (uncached)", _cost(lambda: sign(IDENTITY, key))),
        ("TokenCache.identity_header, cached", _cost(lambda: cache.identity_header(entry))),
        ("MemoryRateLimiter.take", _cost(lambda: memory.take("zlb-app", "GET /items/{item_id}", 50.0))),
        ("RedisRateLimiter.check (local redis-server)", _redis_cost()),
        ("access log line (servicekit JSON, to /dev/null)", _access_log_cost()),
    ]


def _cost(call: Callable[[], object], count: int = 2_000) -> float:
    call()
    started = time.process_time()
    for _ in range(count):
        call()
    return (time.process_time() - started) / count


def _redis_cost(count: int = 2_000) -> float:
    """One EVALSHA round trip through redis-py's asyncio client; NaN where redis-server is missing."""
    from gateway.ratelimit_redis import RedisRateLimiter
    from localinfra import InfraError, start_redis

    try:
        server = start_redis()
    except InfraError as exc:
        log(f"RedisRateLimiter.check not measured: {exc}")
        return math.nan

    async def calls() -> float:
        limiter = RedisRateLimiter(server.url)
        try:
            await limiter.check("zlb-app", "GET /items/{item_id}", 50.0)
            started = time.process_time()
            for _ in range(count):
                await limiter.check("zlb-app", "GET /items/{item_id}", 1e6)
            return (time.process_time() - started) / count
        finally:
            await limiter.close()

    try:
        return uvloop.run(calls())
    finally:
        server.close()


def _access_log_cost() -> float:
    """The access line as the gateway writes it when logging is configured (servicekit.logs)."""
    from servicekit.logs import JsonFormatter

    logger = logging.getLogger("bench.access")
    logger.propagate = False
    with open(os.devnull, "w") as sink:
        handler = logging.StreamHandler(sink)
        handler.setFormatter(JsonFormatter("gateway"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            args = ("GET", "catalog", "/items/{item_id}", 200, 1.234, "system", "zlb-app")
            return _cost(lambda: logger.info("%s %s%s %d %.1fms kind=%s client=%s", *args))
        finally:
            logger.removeHandler(handler)


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
            log(
                f"gateway and bare transports (uvicorn + upstream client only) at {rate:,.0f} req/s, no profiler"
            )
            plain = runner.run(
                fixed_rate(setup.target("gateway"), rate, sizes.warmup_s, sizes.fixed_s, setup.watched)
            )
            print(f"  {describe_fixed('gateway', plain)}")
            for name, factory in BARE:
                (port,) = free_ports(1)
                bare = start_server(stack, name, uvicorn_cmd(factory, port), Path(tmp), setup.gateway_env)
                wait_ready(bare, port, "/")
                path = f"/api/v1/catalog/items/{setup.item_id}"
                target = Target(HOST, port, path, setup.identity_headers())
                watched = [*setup.watched, Watched(name, bare.pid)]
                transport = runner.run(fixed_rate(target, rate, sizes.warmup_s, sizes.fixed_s, watched))
                cpu = per_request(transport.usage, name, transport.result.scheduled)
                print(f"  {describe_fixed(name, transport)}  {name} proxy CPU/req {us(cpu)}")
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
