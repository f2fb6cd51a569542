"""The in-process transport for the embedded mode: one partition per topic, committed offsets per group.

Same at-least-once contract as Kafka: a subscription resumes from its group's last committed
offset, so anything polled but not committed is delivered again after a restart.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from messaging.records import Record
from messaging.transport import Offsets


class InProcessBroker:
    def __init__(self) -> None:
        self.logs: dict[str, list[Record]] = defaultdict(list)
        self.committed: dict[tuple[str, str], int] = {}
        self._changed = asyncio.Condition()

    async def append(self, records: Sequence[Record]) -> None:
        async with self._changed:
            for record in records:
                log = self.logs[record.topic]
                log.append(replace(record, partition=0, offset=len(log)))
            self._changed.notify_all()

    async def wait_for_more(self, positions: dict[str, int], timeout_s: float) -> None:
        def more() -> bool:
            return any(len(self.logs[t]) > p for t, p in positions.items())

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(more), timeout_s)
            except TimeoutError:
                return

    async def ensure_topics(self, names: Sequence[str], partitions: int = 1) -> None:
        return  # topics exist as soon as they are named

    def producer(self) -> InProcessProducer:
        return InProcessProducer(self)

    def subscription(self, group: str, topics: Sequence[str]) -> InProcessSubscription:
        return InProcessSubscription(self, group, topics)


class InProcessProducer:
    def __init__(self, broker: InProcessBroker) -> None:
        self._broker = broker

    async def start(self) -> None:
        return

    async def stop(self) -> None:
        return

    async def send_batch(self, records: Sequence[Record]) -> None:
        await self._broker.append(records)


class InProcessSubscription:
    """One member per group: the embedded mode runs one worker per service."""

    def __init__(self, broker: InProcessBroker, group: str, topics: Sequence[str]) -> None:
        self._broker = broker
        self._group = group
        self._topics = list(topics)
        self._positions: dict[str, int] = {}

    async def start(self) -> None:
        self._positions = {t: self._broker.committed.get((self._group, t), 0) for t in self._topics}

    async def stop(self) -> None:
        self._positions = {}

    async def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        await self._broker.wait_for_more(self._positions, timeout_s)
        out: list[Record] = []
        for topic in self._topics:
            log = self._broker.logs[topic]
            start = self._positions[topic]
            chunk = log[start : start + max_records - len(out)]
            out.extend(chunk)
            self._positions[topic] = start + len(chunk)
        return out

    async def commit(self, offsets: Offsets) -> None:
        for (topic, _partition), offset in offsets.items():
            key = (self._group, topic)
            self._broker.committed[key] = max(offset, self._broker.committed.get(key, 0))
