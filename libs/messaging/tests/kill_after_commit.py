"""A consumer that SIGKILLs itself once N events are committed in its database, before the offset commit.

Run by test_faults.py: `python kill_after_commit.py BOOTSTRAP DB_URL TOPIC GROUP N`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from support import EVENT_TYPE, record_receipt  # type: ignore[import-not-found]

from contracts.envelope import Event
from messaging.consumer import EventConsumer
from messaging.kafka import KafkaConfig, KafkaTransport
from servicekit.db import make_engine, make_sessionmaker


async def main(bootstrap: str, url: str, topic: str, group: str, kill_after: int) -> None:
    kafka = KafkaTransport(KafkaConfig(bootstrap_servers=bootstrap, client_id="doomed"))
    committed = 0

    # Called for each event of a batch after the batch's database commit, before its offset commit.
    def after_commit(_event: Event) -> None:
        nonlocal committed
        committed += 1
        if committed == kill_after:
            print(f"killing myself after {committed} database commits", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    consumer = EventConsumer(
        "tests-consumer",
        kafka.subscription(group, [topic]),
        make_sessionmaker(make_engine(url)),
        {EVENT_TYPE: record_receipt},
        kafka.producer(),
        after_commit=after_commit,
    )
    await consumer.run(asyncio.Event())


if __name__ == "__main__":
    bootstrap, url, topic, group, n = sys.argv[1:6]
    asyncio.run(main(bootstrap, url, topic, group, int(n)))
