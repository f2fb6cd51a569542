"""Every consumer group rewound to offset 0 under load: everything is read again, nothing happens twice.

The workers are stopped (a group's offsets can only be reset while it has no members), every
platform group is set back to the start of each topic it reads through Kafka's admin API, and
the workers start again: the whole history (the seeded catalogue, every application, task and
message status so far) comes past each consumer a second time, and the inboxes absorb it.
"""

from __future__ import annotations

import asyncio
import logging
import time

from localinfra.stack import SERVICES
from tests.harness import Platform
from tests.reliability.kafka_ops import group_lags, rewind_every_group
from tests.reliability.ledger import assert_answers, check_delivery, settle
from tests.reliability.load import ApplicationLoad

log = logging.getLogger("reliability")

# What a replay must leave exactly as it was: read models and the events derived from them.
SNAPSHOTS = {
    "intake": "SELECT count(*) FROM catalog_item",
    "backoffice": "SELECT count(*) FROM outbox WHERE event_type = 'backoffice.task.received'",
    "notify": "SELECT count(*) FROM message WHERE template = 'application_accepted'",
}


async def snapshot(platform: Platform) -> dict[str, int]:
    return {service: int(await platform.scalar(service, sql)) for service, sql in SNAPSHOTS.items()}


async def test_replaying_every_topic_from_offset_zero_changes_nothing(platform: Platform) -> None:
    settings = platform.settings
    stack = platform.stack
    await settle(platform, settings.settle_s)
    before = await snapshot(platform)
    async with ApplicationLoad(platform, settings.rate, "replay") as load:
        await asyncio.sleep(settings.before_s)
        workers = [f"{service}-worker" for service in SERVICES]
        codes = await asyncio.gather(*(asyncio.to_thread(stack.terminate, w) for w in workers))
        assert codes == [0] * len(workers), (
            f"workers did not stop cleanly: {dict(zip(workers, codes, strict=True))}"
        )
        rewound = await rewind_every_group(platform.kafka_bootstrap)
        lag = await group_lags(platform.kafka_bootstrap)
        restarted = time.monotonic()
        for worker in workers:
            stack.respawn(worker)
            # One at a time, as a rolling restart would: five interpreters starting at once would
            # take both cores from the api processes serving the load.
            await asyncio.sleep(1.0)
        await asyncio.sleep(settings.after_s)

    assert_answers(load.outcomes, {201}, {"restart": restarted})
    assert rewound, "no consumer groups found"
    assert all(n > 0 for n in rewound.values()), f"a group was not rewound: {rewound}"
    assert all(lag[g] >= n for g, n in rewound.items()), f"lag after the reset {lag} < rewound {rewound}"
    replayed_s = time.monotonic() - restarted + await settle(platform, settings.settle_s)
    tally = await check_delivery(platform, load.outcomes)
    after = await snapshot(platform)
    assert after["intake"] == before["intake"], "the catalogue read model changed on replay"
    # New applications made new tasks and notifications; the replayed ones made nothing again.
    assert after["backoffice"] == before["backoffice"] + tally.tasks
    assert after["notify"] == before["notify"] + tally.notifications
    log.warning(
        "replay: %s; %d records read again by %d groups (%s), caught up %.1f s after the restart; %s",
        load.summary(),
        sum(rewound.values()),
        len(rewound),
        rewound,
        replayed_s,
        tally,
    )
