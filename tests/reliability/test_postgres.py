"""One service's PostgreSQL goes away under load: its API answers 503 meanwhile, then all is delivered.

Intake's database is restarted (fast shutdown, then start): citizens get 503 problem details with
Retry-After while it is down, never a 500 or a hang, and no application answered 503 was stored
after all. The back office's database is killed (a crash, with recovery on start): citizens keep
applying, the department's worklist answers 503, and the tasks arrive once it is back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx

from tests.harness import Platform
from tests.reliability.ledger import assert_answers, check_delivery
from tests.reliability.load import ApplicationLoad, Probe

log = logging.getLogger("reliability")
# The gateway's circuit breaker holds a failing upstream off for 10 s after it opened.
RECOVERY_S = 40.0
HOLD_S = 3.0


async def recovered(answers: Callable[[], list[tuple[float, int]]], since: float, wanted: int) -> float:
    """Seconds from `since` until answers settled on `wanted`: the start of HOLD_S seconds with nothing
    else (pooled connections the restart broke fail once each, and the gateway's breaker probes before
    it closes). Bounded by RECOVERY_S."""
    while True:
        now = time.monotonic()
        recent = [(due, status) for due, status in answers() if due >= since]
        others = [due for due, status in recent if status != wanted]
        start = max(others, default=since)
        if now - start >= HOLD_S and any(due > start for due, _ in recent):
            return start - since
        assert now - since < RECOVERY_S, f"answers did not settle on {wanted} within {RECOVERY_S} s"
        await asyncio.sleep(0.2)


async def test_intake_database_restart_answers_503_and_loses_nothing(platform: Platform) -> None:
    settings = platform.settings
    cluster = platform.stack.clusters["intake"]
    async with ApplicationLoad(platform, settings.rate, "intake-db") as load:
        await asyncio.sleep(settings.before_s)
        down = time.monotonic()
        await asyncio.to_thread(cluster.stop)
        await asyncio.sleep(settings.outage_s)
        await asyncio.to_thread(cluster.start)
        up = time.monotonic()
        recovered_s = await recovered(lambda: [(o.due, o.status) for o in load.outcomes], up, 201)
        await asyncio.sleep(settings.after_s)

    assert_answers(load.outcomes, {201, 503}, {"stop": down, "start": up})
    refused = [o for o in load.during(down, up) if o.status == 503]
    assert len(refused) >= settings.rate * settings.outage_s * 0.5, "the outage was not answered with 503"
    assert {o.code for o in load.outcomes if o.status == 503} <= {
        "dependency_unavailable",
        "upstream_circuit_open",
    }
    # Recovered for good: from then on, every application is accepted.
    after = load.during(up + recovered_s + 0.001, float("inf"))
    assert {o.status for o in after} == {201}, "intake did not recover after its database came back"
    tally = await check_delivery(platform, load.outcomes)
    log.warning(
        "intake db restart: %s; down %.1f s, %d answered 503, all accepted again %.1f s after the restart; %s",
        load.summary(),
        up - down,
        len(refused),
        recovered_s,
        tally,
    )


async def test_backoffice_database_crash_delays_tasks_but_loses_none(platform: Platform) -> None:
    settings = platform.settings
    cluster = platform.stack.clusters["backoffice"]
    department = await platform.scalar(
        "intake", "SELECT department_code FROM catalog_item WHERE item_id = $1", platform.items[0]
    )
    async with httpx.AsyncClient(timeout=30) as client:
        token = await platform.system_token(client, f"dept-{department}")
    worklist = f"/api/v1/backoffice/tasks?department_code={department}"
    async with (
        ApplicationLoad(platform, settings.rate, "backoffice-db") as load,
        Probe(platform, worklist, token, rate=4) as probe,
    ):
        await asyncio.sleep(settings.before_s)
        down = time.monotonic()
        await asyncio.to_thread(cluster.kill)
        await asyncio.sleep(settings.outage_s)
        await asyncio.to_thread(cluster.start)
        up = time.monotonic()
        recovered_s = await recovered(lambda: probe.answers, up, 200)
        await asyncio.sleep(settings.after_s)

    # Applications do not depend on the back office's database.
    assert_answers(load.outcomes, {201}, {"kill": down, "start": up})
    answers = probe.statuses()
    assert set(answers) <= {200, 503}, f"the worklist answered {dict(answers)}"
    assert probe.statuses(down, up)[503] > 0, "the worklist did not answer 503 while its database was down"
    assert probe.statuses(up + recovered_s + 0.001, float("inf")).keys() == {200}, (
        "the worklist did not recover"
    )
    tally = await check_delivery(platform, load.outcomes)
    log.warning(
        "backoffice db crash: %s; down %.1f s; worklist %s, all answered again %.1f s after the restart; %s",
        load.summary(),
        up - down,
        dict(answers),
        recovered_s,
        tally,
    )
