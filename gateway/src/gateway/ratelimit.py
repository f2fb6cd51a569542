"""Per caller and route token buckets: the decision type, and the in-memory store (one process)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Protocol

BURST_FACTOR = 2.0  # a bucket holds this many seconds' worth of its rate


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int  # seconds until the bucket is full again (RateLimit-Reset)
    retry_after_s: int


def capacity_of(rate_per_s: float) -> float:
    return max(1.0, rate_per_s * BURST_FACTOR)


def decide(allowed: bool, tokens: float, capacity: float, rate_per_s: float) -> Decision:
    """The headers' figures from a bucket's level after this request (shared by every store)."""
    reset = math.ceil((capacity - tokens) / rate_per_s)
    retry = 0 if allowed else math.ceil((1.0 - tokens) / rate_per_s)
    return Decision(allowed, int(capacity), int(tokens), reset, retry)


class RateLimiter(Protocol):
    async def check(self, caller: str, route: str, rate_per_s: float) -> Decision: ...

    async def close(self) -> None: ...


class MemoryRateLimiter:
    """Buckets in this process: right for one gateway instance, and the fallback when Redis is down.

    A bucket that has refilled completely says nothing a new one would not, so full buckets are
    dropped once the table grows past `max_buckets`; if that frees too little, the oldest tenth go
    too. The table stays bounded however many citizens call (each has buckets of their own), and
    the sweep runs at most once per tenth of the table's size in new buckets.
    """

    def __init__(self, max_buckets: int = 100_000) -> None:
        self._buckets: dict[tuple[str, str], list[float]] = {}  # [tokens, updated, rate]
        self._max_buckets = max_buckets

    def take(self, caller: str, route: str, rate_per_s: float, now: float | None = None) -> Decision:
        now = time.monotonic() if now is None else now
        capacity = capacity_of(rate_per_s)
        key = (caller, route)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_buckets:
                self._drop_full(now)
            bucket = self._buckets[key] = [capacity, now, rate_per_s]
        tokens = min(capacity, bucket[0] + (now - bucket[1]) * rate_per_s)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        bucket[0], bucket[1], bucket[2] = tokens, now, rate_per_s
        return decide(allowed, tokens, capacity, rate_per_s)

    def _drop_full(self, now: float) -> None:
        full = [
            key
            for key, (tokens, updated, rate) in self._buckets.items()
            if tokens + (now - updated) * rate >= capacity_of(rate)
        ]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) > self._max_buckets * 0.9:
            for key in list(self._buckets)[: max(1, self._max_buckets // 10)]:
                del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)

    async def check(self, caller: str, route: str, rate_per_s: float) -> Decision:
        return self.take(caller, route, rate_per_s)

    async def close(self) -> None:
        return
