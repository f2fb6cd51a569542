"""Token buckets in Redis, so every gateway instance draws on one budget per caller and route.

One Lua script reads, refills, takes and writes a bucket atomically on the server, with the
server's clock (`TIME`), so instances need neither locks nor synchronised clocks.

Redis down: the gateway falls back to its own in-memory buckets (fail open to local limits) and
tries Redis again after a cooldown. Failing closed would turn a cache outage into a refusal of
every API call on the platform, though limits are a fairness guard, not an authorisation check;
failing fully open would leave one client free to flood the services. With local buckets a flood
is still cut, only at up to N times the limit across N instances. The metrics show the state.
"""

from __future__ import annotations

import hashlib
import logging

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from gateway.breaker import CircuitBreaker
from gateway.ratelimit import Decision, MemoryRateLimiter, capacity_of, decide

log = logging.getLogger("gateway.ratelimit")

# KEYS[1] the bucket; ARGV[1] rate per second, ARGV[2] capacity. Returns {allowed, tokens left}.
# Time in integer milliseconds (exact in Lua's doubles); tokens as a string (Redis would truncate
# a Lua number to an integer reply). The key lives only until the bucket would be full again.
BUCKET_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then
  tokens = capacity
  updated = now
end
tokens = math.min(capacity, tokens + math.max(0, now - updated) * rate / 1000)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
return {allowed, tostring(tokens)}
"""


class RedisRateLimiter:
    """Shared buckets; bucket keys are hashes, so no citizen's ID number is stored in Redis."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 0.25,
        cooldown_s: float = 5.0,
        prefix: str = "zuiduo:gateway:rl:",
        fallback: MemoryRateLimiter | None = None,
    ) -> None:
        # No retries inside the client: a failed call falls back at once, and the breaker (one
        # failure opens it) keeps further calls off a dead server until the cooldown has passed.
        self.client = Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0),
            max_connections=64,
        )
        self._script = self.client.register_script(BUCKET_SCRIPT)
        self._prefix = prefix
        self.fallback = fallback if fallback is not None else MemoryRateLimiter()
        self.breaker = CircuitBreaker(failure_threshold=1, cooldown_s=cooldown_s)
        self.store_errors = 0

    @property
    def degraded(self) -> bool:
        """True while decisions come from the local fallback."""
        return self.breaker.opened_at is not None

    def key(self, caller: str, route: str) -> str:
        digest = hashlib.blake2b(f"{caller}\x00{route}".encode(), digest_size=16).hexdigest()
        return self._prefix + digest

    async def check(self, caller: str, route: str, rate_per_s: float) -> Decision:
        if not self.breaker.allow():
            return self.fallback.take(caller, route, rate_per_s)
        capacity = capacity_of(rate_per_s)
        try:
            allowed, tokens = await self._script(keys=[self.key(caller, route)], args=[rate_per_s, capacity])
        except (RedisError, OSError) as exc:
            self.store_errors += 1
            if not self.degraded:
                log.warning(
                    "rate limits: Redis failed (%s); using this instance's buckets", type(exc).__name__
                )
            self.breaker.failure()
            return self.fallback.take(caller, route, rate_per_s)
        if self.degraded:
            log.warning("rate limits: Redis is back; buckets are shared again")
        self.breaker.success()
        return decide(bool(allowed), float(tokens), capacity, rate_per_s)

    async def close(self) -> None:
        await self.client.aclose()
