"""The two interfaces every transport implements: a producer and a consumer subscription."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from messaging.records import Record

# (topic, partition) -> the offset of the next record to read
Offsets = Mapping[tuple[str, int], int]


class TransportError(RuntimeError):
    """The bus could not be reached in time; the caller retries later."""


class Producer(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send_batch(self, records: Sequence[Record]) -> None:
        """Return when every record is acknowledged by the bus; raise TransportError otherwise."""
        ...


class Subscription(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def poll(self, max_records: int, timeout_s: float) -> list[Record]: ...

    async def commit(self, offsets: Offsets) -> None:
        """Commit offsets; a lost commit (rebalance) must not raise: the inbox absorbs redelivery."""
        ...


class Transport(Protocol):
    async def ensure_topics(self, names: Sequence[str], partitions: int = 3) -> None: ...

    def producer(self) -> Producer: ...

    def subscription(self, group: str, topics: Sequence[str]) -> Subscription: ...
