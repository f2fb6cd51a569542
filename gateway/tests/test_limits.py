"""Rate limits: buckets shared through a real Redis by two gateways, Redis down, memory bounded."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI
from pydantic import ValidationError

from gateway.demo import demo_registry
from gateway.main import Gateway, app, create_gateway
from gateway.ratelimit import MemoryRateLimiter
from gateway.ratelimit_redis import RedisRateLimiter
from gateway.security import Security
from gateway.settings import GatewaySettings
from gateway.upstreams import AsgiUpstream, Upstream
from localinfra import start_redis

from .conftest import DEPARTMENTS, TokenFor, bearer

# Limits scaled so that one bucket holds a single request and refills in 5 s: a test's few
# requests take milliseconds, so every 429 below comes from the budget, never from timing.
ONE_PER_FIVE_SECONDS = 0.01  # x the route's 20/s
URL = "/api/v1/intake/applications/none"  # 20/s; the service answers 404 when let through


def _prefix() -> str:
    return f"test:{uuid.uuid4().hex[:8]}:"


async def _keys(url: str, prefix: str) -> list[bytes]:
    client = aioredis.Redis.from_url(url)
    try:
        return [key async for key in client.scan_iter(match=prefix + "*")]
    finally:
        await client.aclose()


@pytest.fixture
def upstreams(service_apps: dict[str, FastAPI]) -> dict[str, Upstream]:
    return {name: AsgiUpstream(name, app) for name, app in service_apps.items()}


def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")  # type: ignore[arg-type]


async def test_two_gateways_sharing_one_redis_share_one_budget(
    upstreams: dict[str, Upstream], security: Security, token_for: TokenFor, redis_url: str
) -> None:
    headers = bearer(await token_for("window-a01"))
    prefix = _prefix()
    limiters = [RedisRateLimiter(redis_url, prefix=prefix) for _ in range(2)]
    apps = [
        create_gateway(upstreams, security, rate_factor=ONE_PER_FIVE_SECONDS, limiter=lim) for lim in limiters
    ]
    async with _client(apps[0]) as first, _client(apps[1]) as second:
        assert (await first.get(URL, headers=headers)).status_code == 404  # through: the service answers
        assert (await first.get(URL, headers=headers)).status_code == 429
        refused = await second.get(URL, headers=headers)  # the other instance: the same, spent bucket
        assert refused.status_code == 429
        assert refused.headers["ratelimit-limit"] == "1"
        assert refused.headers["ratelimit-remaining"] == "0"
        assert 1 <= int(refused.headers["retry-after"]) <= 5
        assert refused.json()["code"] == "rate_limited"
    # Without Redis each instance keeps its own count: the second would have let the call through.
    local = create_gateway(upstreams, security, rate_factor=ONE_PER_FIVE_SECONDS)
    async with _client(local) as alone:
        assert (await alone.get(URL, headers=headers)).status_code == 404
    keys = await _keys(redis_url, prefix)
    assert len(keys) == 1
    assert b"window-a01" not in keys[0]  # callers are hashed: no client id or ID number in Redis
    for limiter in limiters:
        await limiter.close()


async def test_concurrent_takes_from_two_instances_never_overdraw_a_bucket(redis_url: str) -> None:
    prefix = _prefix()
    limiters = [RedisRateLimiter(redis_url, prefix=prefix) for _ in range(2)]
    started = time.monotonic()
    decisions = await asyncio.gather(*(limiters[i % 2].check("citizen-1", "GET /x", 5.0) for i in range(60)))
    elapsed = time.monotonic() - started
    allowed = sum(d.allowed for d in decisions)
    # Capacity 10 (2 s at 5/s), plus what refilled while the 60 calls ran; without atomicity the
    # two instances would each grant their own 10 or more.
    assert 10 <= allowed <= 10 + int(elapsed * 5) + 1, (allowed, elapsed)
    assert all(d.limit == 10 for d in decisions)
    for limiter in limiters:
        await limiter.close()


async def test_redis_down_falls_back_to_this_instances_buckets_and_recovers(
    upstreams: dict[str, Upstream], security: Security, token_for: TokenFor
) -> None:
    server = start_redis()
    prefix = _prefix()
    limiter = RedisRateLimiter(server.url, prefix=prefix, timeout_s=0.2, cooldown_s=0.3)
    app = create_gateway(upstreams, security, rate_factor=0.05, limiter=limiter)  # 1/s, bucket of 2
    flooder, quiet = bearer(await token_for("window-a01")), bearer(await token_for("dept-wc-rsj"))
    try:
        async with _client(app) as client:
            assert (await client.get(URL, headers=flooder)).status_code == 404
            assert len(await _keys(server.url, prefix)) == 1
            server.stop()
            # Fail open to local limits: nothing is refused for Redis's sake, a flood is still cut.
            statuses = [(await client.get(URL, headers=flooder)).status_code for _ in range(6)]
            assert set(statuses) <= {404, 429}
            assert statuses[:2] == [404, 404]
            assert statuses[2:] == [429] * 4
            assert (await client.get(URL, headers=quiet)).status_code == 404
            metrics = (await client.get("/metrics")).text
            assert "gateway_ratelimit_degraded 1.0" in metrics
            assert "gateway_ratelimit_store_errors_total 1.0" in metrics  # then the breaker held off
            server.start()
            await asyncio.sleep(0.35)  # the cooldown: the next call tries Redis again
            assert (await client.get(URL, headers=quiet)).status_code == 404
            assert len(await _keys(server.url, prefix)) == 1  # the restarted server holds it
            assert "gateway_ratelimit_degraded 0.0" in (await client.get("/metrics")).text
    finally:
        await limiter.close()
        server.close()


def test_the_memory_store_stays_bounded_and_drops_refilled_buckets_first() -> None:
    limiter = MemoryRateLimiter(max_buckets=100)
    for n in range(50):
        limiter.take(f"old-{n}", "GET /x", 1.0, now=0.0)
    for n in range(60):  # ten seconds later the old buckets are full again: they go first
        limiter.take(f"new-{n}", "GET /x", 1.0, now=10.0)
    assert len(limiter) == 60
    for n in range(1000):
        limiter.take(f"flood-{n}", "GET /x", 1.0, now=10.0)
    assert len(limiter) <= 100
    spent = limiter.take("flood-999", "GET /x", 1.0, now=10.0)
    assert (spent.remaining, spent.allowed) == (0, True)  # the newest bucket kept its count


def test_rate_factor_redis_url_and_timeouts_are_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clients = tmp_path / "clients.json"
    demo_registry(DEPARTMENTS).save(clients)
    monkeypatch.setenv("GATEWAY_CLIENTS_FILE", str(clients))
    monkeypatch.setenv("GATEWAY_INTERNAL_TOKEN_KEY", "k" * 32)
    monkeypatch.setenv("GATEWAY_RATE_FACTOR", "2.5")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("GATEWAY_UPSTREAM_TIMEOUTS_S", '{"datashare": 20}')
    root = logging.getLogger()  # app() configures logging: give the root logger back afterwards
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    gateway = app().app
    assert isinstance(gateway, Gateway)
    assert gateway.rate_factor == 2.5
    assert isinstance(gateway.limiter, RedisRateLimiter)
    timeouts = {name: getattr(upstream, "timeout_s", None) for name, upstream in gateway.upstreams.items()}
    assert (timeouts["datashare"], timeouts["catalog"]) == (20, 10)  # per upstream, else the default
    monkeypatch.setenv("GATEWAY_RATE_FACTOR", "0")
    with pytest.raises(ValidationError, match="GATEWAY_RATE_FACTOR"):
        GatewaySettings()
