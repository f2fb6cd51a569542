"""The circuit breaker's states, on a clock we move by hand."""

from __future__ import annotations

from gateway.breaker import CircuitBreaker


def test_opens_after_consecutive_failures_and_closes_after_a_good_probe() -> None:
    breaker = CircuitBreaker(failure_threshold=3, cooldown_s=10)
    for t in range(3):
        assert breaker.allow(now=t)
        breaker.failure(now=t)
    assert not breaker.allow(now=5)
    assert breaker.retry_after_s(now=5) == 7  # opened at t=2
    assert breaker.allow(now=13)  # the one half-open probe
    assert not breaker.allow(now=13.1)
    breaker.success()
    assert breaker.state == "closed"
    assert breaker.allow(now=14)


def test_a_failed_probe_opens_again_for_a_full_cooldown() -> None:
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=10)
    breaker.failure(now=0)
    assert breaker.allow(now=10)
    breaker.failure(now=10)
    assert not breaker.allow(now=15)
    assert breaker.retry_after_s(now=15) == 5
