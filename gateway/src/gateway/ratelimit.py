"""Per client and route token buckets (in memory; one gateway process holds the counts)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass
class Bucket:
    tokens: float
    updated: float


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int  # seconds until the bucket is full again (RateLimit-Reset)
    retry_after_s: int


class RateLimiter:
    def __init__(self, burst_factor: float = 2.0) -> None:
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._burst_factor = burst_factor

    def check(self, client: str, route: str, rate_per_s: float, now: float | None = None) -> Decision:
        now = now if now is not None else time.monotonic()
        capacity = max(1.0, rate_per_s * self._burst_factor)
        bucket = self._buckets.get((client, route))
        if bucket is None:
            bucket = self._buckets[(client, route)] = Bucket(capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate_per_s)
        bucket.updated = now
        allowed = bucket.tokens >= 1.0
        if allowed:
            bucket.tokens -= 1.0
        reset = math.ceil((capacity - bucket.tokens) / rate_per_s)
        retry = 0 if allowed else math.ceil((1.0 - bucket.tokens) / rate_per_s)
        return Decision(allowed, int(capacity), int(bucket.tokens), reset, retry)
