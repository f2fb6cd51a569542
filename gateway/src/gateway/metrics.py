"""Prometheus metrics of the gateway (one registry per gateway instance)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric


class LimiterState(Protocol):
    @property
    def degraded(self) -> bool: ...

    store_errors: int


class _LimiterCollector:
    """Read at scrape time: the shared store's state costs the request path nothing."""

    def __init__(self, limiter: LimiterState) -> None:
        self.limiter = limiter

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "gateway_ratelimit_degraded",
            "1 while rate limits come from this instance's memory because Redis failed",
            value=1 if self.limiter.degraded else 0,
        )
        yield CounterMetricFamily(
            "gateway_ratelimit_store_errors",
            "Rate-limit calls to Redis that failed (answered from the local buckets)",
            value=self.limiter.store_errors,
        )


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gateway_requests_total",
            "Requests by route and status",
            ["service", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "gateway_request_seconds",
            "Time to the response start",
            ["service"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
        )
        self.rejected = Counter(
            "gateway_rejected_total", "Requests refused at the gateway", ["reason"], registry=self.registry
        )
        self.upstream_errors = Counter(
            "gateway_upstream_errors_total",
            "Upstream failures (5xx answered by the gateway)",
            ["service"],
            registry=self.registry,
        )

        self.breaker_open = Gauge(
            "gateway_upstream_breaker_open",
            "1 while the upstream's circuit breaker is open or half-open",
            ["service"],
            registry=self.registry,
        )
        # `labels()` takes a lock and builds a key on every call: children are looked up once.
        self._children: dict[tuple[Any, ...], Any] = {}

    def watch_limiter(self, limiter: LimiterState) -> None:
        self.registry.register(_LimiterCollector(limiter))

    def observe_start(self, service: str, seconds: float) -> None:
        key = ("latency", service)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.latency.labels(service)
        child.observe(seconds)

    def count(self, service: str, route: str, status: int) -> None:
        key = ("requests", service, route, status)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.requests.labels(service, route, str(status))
        child.inc()
        if status >= 500:
            self.upstream_errors.labels(service).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
