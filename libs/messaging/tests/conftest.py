"""Fixtures for the messaging tests: a producer and a consumer database, Kafka topics, one group."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from messaging.kafka import KafkaConfig, KafkaTransport
from servicekit.db import make_engine

from .support import create_tables


@pytest.fixture
async def producer_engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(pg_url)
    await create_tables(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def consumer_engine(pg_cluster: object) -> AsyncIterator[AsyncEngine]:
    url = pg_cluster.create_database(f"c_{uuid.uuid4().hex[:12]}")  # type: ignore[attr-defined]
    engine = make_engine(url)
    await create_tables(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def topic() -> str:
    """A fresh topic per test, so tests never read each other's records."""
    return f"test.{uuid.uuid4().hex[:10]}"


@pytest.fixture
def kafka(kafka_bootstrap: str) -> KafkaTransport:
    return KafkaTransport(KafkaConfig(bootstrap_servers=kafka_bootstrap, client_id="tests"))
