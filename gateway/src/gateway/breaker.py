"""A circuit breaker per upstream: closed -> open after consecutive failures -> half-open probe."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass
class CircuitBreaker:
    failure_threshold: int = 5
    cooldown_s: float = 10.0
    failures: int = 0
    opened_at: float | None = None
    probing: bool = False

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half-open" if self._cooled(time.monotonic()) else "open"

    def _cooled(self, now: float) -> bool:
        return self.opened_at is not None and now - self.opened_at >= self.cooldown_s

    def allow(self, now: float | None = None) -> bool:
        """May a request go upstream now? While open only one probe passes after the cooldown."""
        now = now if now is not None else time.monotonic()
        if self.opened_at is None:
            return True
        if self._cooled(now) and not self.probing:
            self.probing = True
            return True
        return False

    def retry_after_s(self, now: float | None = None) -> int:
        now = now if now is not None else time.monotonic()
        if self.opened_at is None:
            return 0
        return max(1, math.ceil(self.cooldown_s - (now - self.opened_at)))

    def success(self) -> None:
        self.failures, self.opened_at, self.probing = 0, None, False

    def failure(self, now: float | None = None) -> None:
        now = now if now is not None else time.monotonic()
        self.failures += 1
        if self.probing or self.failures >= self.failure_threshold:
            self.opened_at, self.probing = now, False
