"""The Kafka broker SIGKILLed under load and started again: citizens never notice, nothing is lost."""

from __future__ import annotations

import asyncio
import logging
import time

from tests.harness import Platform
from tests.reliability.ledger import assert_answers, check_delivery
from tests.reliability.load import ApplicationLoad

log = logging.getLogger("reliability")


async def test_broker_killed_and_restarted_loses_and_doubles_nothing(platform: Platform) -> None:
    settings = platform.settings
    broker = platform.stack.kafka
    assert broker is not None
    async with ApplicationLoad(platform, settings.rate, "broker") as load:
        await asyncio.sleep(settings.before_s)
        down = time.monotonic()
        broker.kill()
        await asyncio.sleep(settings.outage_s)
        await asyncio.to_thread(broker.start)
        up = time.monotonic()
        await asyncio.sleep(settings.after_s)

    # The outbox decouples the API from the bus: applications are accepted while it is down.
    assert_answers(load.outcomes, {201}, {"kill": down, "start": up})
    while_down = [o for o in load.during(down, up) if o.status == 201]
    assert len(while_down) >= settings.rate * settings.outage_s * 0.5, (
        "too few accepted while the broker was down"
    )
    tally = await check_delivery(platform, load.outcomes)
    log.warning("broker kill: %s; broker down %.1f s; %s", load.summary(), up - down, tally)
