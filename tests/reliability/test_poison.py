"""Poison records on `intake.applications` under load: each reader dead-letters them, the stream flows on.

Three kinds: bytes that are no CloudEvent at all, a 受理 event whose data fails validation (both
go straight to the DLQ of every group reading the topic), and a well-formed 受理 of an item
version that does not exist, which the back office retries with back-off before dead-lettering
it (notify has nothing to look up and handles it).
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import uuid
from datetime import UTC, datetime

from contracts.envelope import Event
from contracts.topics import INTAKE_APPLICATIONS
from messaging.records import Record, encode
from tests.harness import Platform
from tests.reliability.kafka_ops import dead_letters, groups_reading, produce
from tests.reliability.ledger import POISON_PREFIX, assert_answers, check_delivery
from tests.reliability.load import ApplicationLoad

log = logging.getLogger("reliability")
TOPIC = INTAKE_APPLICATIONS.name


def accepted_event(subject: str, data: dict[str, object]) -> Record:
    event = Event(
        id=str(uuid.uuid4()),
        source="/intake",
        type="intake.application.accepted",
        subject=subject,
        time=datetime.now(UTC),
        data=data,
    )
    value, headers = encode(event)
    return Record(topic=TOPIC, key=subject.encode(), value=value, headers=headers)


def poison(platform: Platform, tag: str) -> dict[str, Record]:
    keys = {kind: f"{POISON_PREFIX.decode()}{kind}-{tag}" for kind in ("garbage", "invalid", "unknown")}
    applicant, name = platform.citizens[0].id_number, platform.citizens[0].name
    return {
        "garbage": Record(topic=TOPIC, key=keys["garbage"].encode(), value=b"\xff\xfe not an event"),
        "invalid": accepted_event(keys["invalid"], {"application_id": keys["invalid"], "case_number": 7}),
        "unknown": accepted_event(
            keys["unknown"],
            {
                "application_id": keys["unknown"],
                "case_number": keys["unknown"],
                "item_id": platform.items[0],
                "item_version": 999,
                "department_code": "wc-mzj",
                "applicant_kind": "person",
                "applicant_id": applicant,
                "applicant_name": name,
                "accepted_at": datetime.now(UTC).isoformat(),
            },
        ),
    }


async def test_poison_records_are_dead_lettered_and_the_stream_flows_on(platform: Platform) -> None:
    settings = platform.settings
    records = poison(platform, uuid.uuid4().hex[:8])
    readers = await groups_reading(platform.kafka_bootstrap, TOPIC)
    assert "backoffice" in readers
    async with ApplicationLoad(platform, settings.rate, "poison") as load:
        await asyncio.sleep(settings.before_s)
        await produce(platform.kafka_bootstrap, list(records.values()))
        await asyncio.sleep(settings.after_s)

    assert_answers(load.outcomes, {201})
    tally = await check_delivery(platform, load.outcomes)
    ours = {r.key for r in records.values()}
    found = collections.Counter(
        (d.consumer, d.key) for d in await dead_letters(platform.kafka_bootstrap) if d.key in ours
    )
    expected = collections.Counter(
        {(group, records[kind].key): 1 for group in readers for kind in ("garbage", "invalid")}
    )
    expected[("backoffice", records["unknown"].key)] = 1
    assert {
        k: n for k, n in found.items() if k[1] != records["unknown"].key or k[0] == "backoffice"
    } == expected
    log.warning(
        "poison: %s; dead letters %s; %s",
        load.summary(),
        json.dumps({f"{g}:{k.decode() if k else None}": n for (g, k), n in found.items()}),
        tally,
    )
