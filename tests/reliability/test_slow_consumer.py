"""A department system that falls far behind (its worker frozen for RELIABILITY_LAG_S, 60 s in CI).

The frozen worker (SIGSTOP) keeps its connections but does nothing, like a hung or very slow
system; its Kafka session expires on the way, so on SIGCONT it is fenced, rejoins and reads again
from its last commit. Citizens are served throughout; the backlog is then worked off completely.
"""

from __future__ import annotations

import asyncio
import logging
import time

from tests.harness import Platform
from tests.reliability.kafka_ops import group_lags
from tests.reliability.ledger import assert_answers, check_delivery, settle
from tests.reliability.load import ApplicationLoad

log = logging.getLogger("reliability")
WORKER = "backoffice-worker"
GROUP = "backoffice"


async def test_a_lagging_department_consumer_catches_up_without_loss(platform: Platform) -> None:
    settings = platform.settings
    stack = platform.stack
    async with ApplicationLoad(platform, settings.rate, "lag") as load:
        await asyncio.sleep(settings.before_s)
        tasks_before = await platform.scalar("backoffice", "SELECT count(*) FROM task")
        stack.pause(WORKER)
        paused = time.monotonic()
        await asyncio.sleep(settings.lag_s)
        lag = (await group_lags(platform.kafka_bootstrap)).get(GROUP, 0)
        tasks_frozen = await platform.scalar("backoffice", "SELECT count(*) FROM task")
        stack.resume(WORKER)
        resumed = time.monotonic()
        await asyncio.sleep(settings.after_s)

    assert_answers(load.outcomes, {201}, {"pause": paused, "resume": resumed})
    expected_lag = settings.rate * settings.lag_s
    assert lag >= expected_lag * 0.7, (
        f"the consumer was not behind: lag {lag}, expected about {expected_lag:.0f}"
    )
    assert tasks_frozen - tasks_before <= settings.rate, "tasks kept arriving while the worker was frozen"
    caught_up_s = time.monotonic() - resumed + await settle(platform, settings.settle_s)
    tally = await check_delivery(platform, load.outcomes)
    log.warning(
        "slow consumer: %s; frozen %.0f s, lag %d records, caught up within %.1f s of resuming; %s",
        load.summary(),
        resumed - paused,
        lag,
        caught_up_s,
        tally,
    )
