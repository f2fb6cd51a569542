"""The load generator's vocabulary: what to request, who sends it, and what a run measured."""

from __future__ import annotations

import collections
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

Done = Callable[[int, int], None]  # (request index, HTTP status; 0 = connection error)
TIMED_OUT = -1
CONNECTION_ERROR = 0


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    def request_bytes(self) -> bytes:
        lines = [f"GET {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Sender(Protocol):
    """Sends request `index` now (or queues it) and calls `done(index, status)` when it ends."""

    name: str

    def send(self, index: int, done: Done) -> None: ...


@dataclass
class Result:
    sender: str
    rate: float  # offered, requests/s (0 for a closed-loop run)
    scheduled: int
    started_ns: int  # t0: the intended time of request 0
    latencies_ns: list[int]  # per completed request, from its intended send time to the last byte
    send_lag_ns: list[int]  # per request, from its intended time to the moment it was handed on
    statuses: collections.Counter[int]
    last_done_ns: int
    cpu_s: float  # this process's CPU time during the run (all threads)
    pacing: str

    @property
    def completed(self) -> int:
        return len(self.latencies_ns)

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200)

    @property
    def achieved_rate(self) -> float:
        """Responses per second from t0 to the last response."""
        span = (self.last_done_ns - self.started_ns) / 1e9
        return self.completed / span if span > 0 else 0.0

    def percentile(self, q: float) -> float:
        """Nearest-rank latency percentile in seconds (NaN without samples)."""
        return _nearest_rank(self.latencies_ns, q) / 1e9

    def lag_percentile(self, q: float) -> float:
        return _nearest_rank(self.send_lag_ns, q) / 1e9

    @property
    def cpu_per_request_s(self) -> float:
        return self.cpu_s / self.scheduled if self.scheduled else math.nan


def _nearest_rank(values: list[int], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(q * len(ordered)) - 1)])
