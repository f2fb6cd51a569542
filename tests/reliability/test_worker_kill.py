"""Workers SIGKILLed mid-batch and started again: the inbox absorbs what is read twice, nothing is lost.

The back office's worker is killed while it works through a backlog, and the kill counts only
when it provably caught the worker in the middle: either its PostgreSQL logged a transaction cut
off by the kill (a batch, or a relay round, rolled back and to be done again), or records past the
group's committed offset already have inbox rows (their transaction committed, their offsets did
not: the restarted worker reads them again). Intake's worker (the outbox relay) is killed as well,
so rows sent but not yet marked published go out twice.
"""

from __future__ import annotations

import asyncio
import logging
import time

import asyncpg

from contracts.topics import INTAKE_APPLICATIONS
from localinfra.pg_admin import plain_dsn
from tests.harness import Platform
from tests.reliability.kafka_ops import group_lags, uncommitted_event_ids
from tests.reliability.ledger import assert_answers, check_delivery
from tests.reliability.load import ApplicationLoad

log = logging.getLogger("reliability")
WORKER = "backoffice-worker"
GROUP = "backoffice"
ATTEMPTS = 5
# What PostgreSQL logs when a client vanishes inside a transaction (the server rolls it back).
CUT_OFF = "unexpected EOF on client connection with an open transaction"


def cut_off_transactions(platform: Platform) -> int:
    log_path = platform.stack.clusters["backoffice"].log_path
    return log_path.read_text(encoding="utf-8", errors="replace").count(CUT_OFF)


async def handled_but_uncommitted(platform: Platform) -> int:
    """Records the back-office group will read again although their transactions committed."""
    ids = await uncommitted_event_ids(platform.kafka_bootstrap, GROUP, INTAKE_APPLICATIONS.name)
    found = await platform.scalar(
        "backoffice",
        "SELECT count(*) FROM inbox WHERE consumer = $1 AND event_id = ANY($2::text[])",
        GROUP,
        ids,
    )
    return int(found)


async def caught_up(platform: Platform, timeout_s: float = 60) -> None:
    """The restarted worker has rejoined the group (after the dead member's session expired) and read all."""
    deadline = time.monotonic() + timeout_s
    while (await group_lags(platform.kafka_bootstrap)).get(GROUP, 0) > platform.settings.rate:
        assert time.monotonic() < deadline, f"{WORKER} did not catch up within {timeout_s} s"
        await asyncio.sleep(0.5)


async def open_transactions(conn: asyncpg.Connection) -> int:
    """Transactions of other sessions in the back office's database (only its worker writes there now)."""
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND xact_start IS NOT NULL"
        )
    )


async def kill_mid_batch(platform: Platform) -> tuple[int, str]:
    """Pause the worker so a backlog builds, resume it, SIGKILL it as soon as it is inside a transaction.

    Retried until the kill provably caught it in the middle (each retry waits for the restarted worker
    to rejoin its group, which takes the dead member's session timeout).
    """
    stack = platform.stack
    watcher = await asyncpg.connect(plain_dsn(stack.database_urls["backoffice"]))
    try:
        for attempt in range(1, ATTEMPTS + 1):
            stack.pause(WORKER)
            await asyncio.sleep(2.0)
            stack.resume(WORKER)
            deadline = time.monotonic() + 5.0
            while not await open_transactions(watcher) and time.monotonic() < deadline:
                pass
            cut_before = cut_off_transactions(platform)
            stack.kill(WORKER)
            await asyncio.sleep(0.5)  # the server notices the closed connections
            cut = cut_off_transactions(platform) - cut_before
            redone = await handled_but_uncommitted(platform)
            stack.respawn(WORKER)
            if cut or redone:
                return attempt, f"{cut} transaction(s) cut off, {redone} committed event(s) to read again"
            await caught_up(platform)
    finally:
        await watcher.close()
    raise AssertionError(f"no kill landed mid-batch in {ATTEMPTS} attempts")


async def test_workers_killed_mid_batch_lose_and_double_nothing(platform: Platform) -> None:
    settings = platform.settings
    async with ApplicationLoad(platform, settings.rate, "kill") as load:
        await asyncio.sleep(settings.before_s)
        attempt, caught = await kill_mid_batch(platform)
        await asyncio.sleep(1.0)
        killed_relay = time.monotonic()
        platform.stack.kill("intake-worker")
        await asyncio.sleep(1.0)
        platform.stack.respawn("intake-worker")
        await asyncio.sleep(settings.after_s)

    # Workers are not on the request path: every application is accepted meanwhile.
    assert_answers(load.outcomes, {201}, {"relay kill": killed_relay})
    tally = await check_delivery(platform, load.outcomes)
    log.warning(
        "worker kill: %s; back-office kill %d landed mid-batch (%s); relay killed at +%.1f s; %s",
        load.summary(),
        attempt,
        caught,
        killed_relay - load.outcomes[0].due,
        tally,
    )
