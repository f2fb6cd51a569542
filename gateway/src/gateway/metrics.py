"""Prometheus metrics of the gateway (one registry per gateway instance)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


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

    def render(self) -> bytes:
        return generate_latest(self.registry)
