"""Counting what went in and what came out, in each service's own database.

What went in is every application the gateway answered 2xx for; what must come out is one
back-office task and one 受理 notification per channel for each of them, no more, no less, and no
application accepted behind an error answer. The bus is settled first (every outbox published,
every consumer group caught up), so a late duplicate would be counted too.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Sequence
from dataclasses import dataclass

from localinfra.proc import tail
from localinfra.stack import SERVICES
from tests.harness import Platform
from tests.reliability.kafka_ops import dead_letters, group_lags
from tests.reliability.load import Outcome

ACCEPTED_TEMPLATE = "application_accepted"
POISON_PREFIX = b"poison-"


@dataclass(frozen=True)
class Tally:
    accepted: int
    tasks: int
    notifications: int
    settle_s: float


async def unpublished(platform: Platform) -> dict[str, int]:
    counts = {}
    for service in SERVICES:
        counts[service] = int(
            await platform.scalar(service, "SELECT count(*) FROM outbox WHERE published_at IS NULL")
        )
    return counts


def assert_alive(platform: Platform) -> None:
    """No api, worker or the gateway has exited: a crashed process is a failure in its own right."""
    stack = platform.stack
    dead = {name: p.returncode for name, p in stack.processes.items() if p.poll() is not None}
    assert not dead, f"stack process(es) exited: {dead}; " + "; ".join(
        f"end of {name}.log: {tail(stack.workdir / f'{name}.log', 12)}" for name in dead
    )


async def settle(platform: Platform, timeout_s: float) -> float:
    """Wait until every outbox is published and every consumer group has read everything."""
    started = time.monotonic()
    calm = 0
    while True:
        assert_alive(platform)
        pending = {s: n for s, n in (await unpublished(platform)).items() if n}
        lagging = {g: n for g, n in (await group_lags(platform.kafka_bootstrap)).items() if n}
        # Twice in a row: an event published between the two reads would otherwise slip past.
        calm = calm + 1 if not pending and not lagging else 0
        if calm == 2:
            return time.monotonic() - started
        assert time.monotonic() - started < timeout_s, (
            f"the platform did not settle in {timeout_s:.0f} s: unpublished {pending}, lag {lagging}"
        )
        await asyncio.sleep(0.5)


async def _tasks(platform: Platform, ids: list[str]) -> dict[str, int]:
    rows = await platform.query(
        "backoffice",
        "SELECT application_id, count(*) AS n FROM task WHERE application_id = ANY($1::text[]) "
        "GROUP BY application_id",
        ids,
    )
    return {r["application_id"]: r["n"] for r in rows}


async def _notifications(platform: Platform, cases: list[str]) -> dict[tuple[str, str], int]:
    rows = await platform.query(
        "notify",
        "SELECT case_number, channel, count(*) AS n FROM message WHERE template = $1 "
        "AND case_number = ANY($2::text[]) GROUP BY case_number, channel",
        ACCEPTED_TEMPLATE,
        cases,
    )
    return {(r["case_number"], r["channel"]): r["n"] for r in rows}


async def check_intake(platform: Platform, outcomes: Sequence[Outcome]) -> None:
    """Intake holds exactly the applications answered 2xx: none lost, none accepted behind an error."""
    rows = await platform.query(
        "intake",
        "SELECT idempotency_key, id FROM application WHERE idempotency_key = ANY($1::text[])",
        [o.key for o in outcomes],
    )
    stored = {r["idempotency_key"]: r["id"] for r in rows}
    answered = {o.key: o.application_id for o in outcomes if 200 <= o.status < 300}
    not_accepted = {o.application_status for o in outcomes if 200 <= o.status < 300} - {"accepted"}
    assert not not_accepted, f"intake did not accept (受理) every complete application: {not_accepted}"
    lost = sorted(set(answered) - set(stored))
    ghosts = sorted(set(stored) - set(answered))
    assert not lost, f"{len(lost)} application(s) answered 2xx are not in intake's database: {lost[:5]}"
    assert not ghosts, f"{len(ghosts)} application(s) stored although answered with an error: {ghosts[:5]}"
    assert stored == answered, "intake stored other ids than it answered"


async def check_no_duplicates_anywhere(platform: Platform) -> None:
    """Across everything the session sent, not only this test's share."""
    twice = await platform.query(
        "backoffice", "SELECT application_id FROM task GROUP BY application_id HAVING count(*) > 1"
    )
    assert not twice, f"applications with more than one task: {[r[0] for r in twice][:5]}"
    received = await platform.query(
        "backoffice",
        "SELECT key FROM outbox WHERE event_type = 'backoffice.task.received' GROUP BY key HAVING count(*) > 1",
    )
    assert not received, f"tasks announced more than once: {[r[0] for r in received][:5]}"
    repeated = await platform.query(
        "notify",
        "SELECT case_number, channel FROM message WHERE template = $1 "
        "GROUP BY case_number, channel, recipient_id HAVING count(*) > 1",
        ACCEPTED_TEMPLATE,
    )
    assert not repeated, f"notifications sent twice: {[tuple(r) for r in repeated][:5]}"
    misplaced = [
        d
        for d in await dead_letters(platform.kafka_bootstrap)
        if not (d.key or b"").startswith(POISON_PREFIX)
    ]
    assert not misplaced, f"real events dead-lettered: {misplaced[:3]}"


async def check_delivery(platform: Platform, outcomes: Sequence[Outcome]) -> Tally:
    """Every accepted application: one task, one notification per channel; nothing lost or doubled."""
    await check_intake(platform, outcomes)
    accepted = [o for o in outcomes if 200 <= o.status < 300]
    ids = [o.application_id for o in accepted if o.application_id]
    cases = [o.case_number for o in accepted if o.case_number]
    assert len(ids) == len(cases) == len(accepted)
    settle_s = await settle(platform, platform.settings.settle_s)
    tasks = await _tasks(platform, ids)
    notifications = await _notifications(platform, cases)
    lost_tasks = sorted(set(ids) - set(tasks))
    assert not lost_tasks, f"{len(lost_tasks)} accepted application(s) have no task: {lost_tasks[:5]}"
    doubled = {a: n for a, n in tasks.items() if n != 1}
    assert not doubled, f"applications with more than one task: {doubled}"
    unnotified = sorted(set(cases) - {case for case, _ in notifications})
    assert not unnotified, f"{len(unnotified)} case(s) without the 受理 notification: {unnotified[:5]}"
    repeated = {k: n for k, n in notifications.items() if n != 1}
    assert not repeated, f"notifications made more than once: {repeated}"
    await check_no_duplicates_anywhere(platform)
    return Tally(len(accepted), sum(tasks.values()), sum(notifications.values()), settle_s)


def timeline(outcomes: Sequence[Outcome], marks: dict[str, float] | None = None) -> str:
    """Statuses per second of due time, with the fault's instants marked: what a failure report needs."""
    if not outcomes:
        return "(no requests)"
    t0 = outcomes[0].due
    seconds: dict[int, collections.Counter[int]] = collections.defaultdict(collections.Counter)
    for o in outcomes:
        seconds[int(o.due - t0)][o.status] += 1
    events = {int(at - t0): name for name, at in (marks or {}).items()}
    return " | ".join(
        f"{'[' + events[s] + '] ' if s in events else ''}+{s}s {dict(seconds[s])}" for s in sorted(seconds)
    )


def assert_answers(
    outcomes: Sequence[Outcome], allowed: set[int], marks: dict[str, float] | None = None
) -> None:
    """Only the allowed statuses: never a 500, never a hang (-1), never a refused connection (0)."""
    unexpected = [o for o in outcomes if o.status not in allowed]
    assert not unexpected, (
        f"{len(unexpected)} unexpected answer(s), e.g. "
        f"{[(o.status, o.code, round(o.latency_s, 2)) for o in unexpected[:5]]}; "
        f"timeline: {timeline(outcomes, marks)}"
    )
