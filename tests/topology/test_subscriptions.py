"""The AsyncAPI document's subscriptions are the ones the workers really run."""

from __future__ import annotations

import importlib

import pytest

from contracts.consumers import CONSUMED_TOPICS
from servicekit.migrate import SERVICES


@pytest.mark.parametrize("service", SERVICES)
def test_documented_subscriptions_match_the_workers(service: str) -> None:
    subscriptions = importlib.import_module(f"{service}.handlers").SUBSCRIPTIONS
    consumed = sorted({topic for sub in subscriptions for topic in sub.topics})
    assert consumed == sorted(CONSUMED_TOPICS.get(service, []))
