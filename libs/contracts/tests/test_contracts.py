"""Event contracts: committed schemas only ever grow, and the AsyncAPI document covers every event."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cloudevents.core.bindings import kafka as ce_kafka

from contracts.asyncapi import asyncapi_document
from contracts.catalog import ItemRetired
from contracts.consumers import CONSUMED_TOPICS
from contracts.envelope import new_event
from contracts.registry import REGISTRY
from contracts.schemas import SCHEMA_DIR, committed_schema, compatibility_problems, payload_schema
from contracts.topics import TOPICS
from messaging.records import Record, decode, encode


@pytest.mark.parametrize("event_type", sorted(REGISTRY))
def test_committed_schema_exists_and_current_model_is_compatible(event_type: str) -> None:
    old = committed_schema(event_type)
    assert old is not None, f"run `python -m contracts.generate` and commit schemas/{event_type}.json"
    assert compatibility_problems(old, payload_schema(event_type)) == []


@pytest.mark.parametrize("event_type", sorted(REGISTRY))
def test_committed_schema_is_up_to_date(event_type: str) -> None:
    assert committed_schema(event_type) == payload_schema(event_type), "run `python -m contracts.generate`"


def _schema(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required}


def test_removing_retyping_or_requiring_a_field_is_reported() -> None:
    old = _schema(["a"], a={"type": "string"}, b={"type": "integer"}, c={"type": "string"})
    assert compatibility_problems(old, old) == []
    grown = _schema(
        ["a"], a={"type": "string"}, b={"type": "integer"}, c={"type": "string"}, d={"type": "string"}
    )
    assert compatibility_problems(old, grown) == []
    broken = _schema(["a", "c"], a={"type": "integer"}, c={"type": "string"})
    assert sorted(compatibility_problems(old, broken)) == [
        "a: type ['string'] became ['integer']",
        "b: removed",
        "c: newly required",
    ]


def test_nested_list_items_are_checked() -> None:
    old = payload_schema("catalog.item.published")
    new = json.loads(json.dumps(old))
    del new["$defs"]["MaterialSpec"]["properties"]["rongque"]
    assert compatibility_problems(old, new) == ["materials[].rongque: removed"]


def test_asyncapi_document_names_every_topic_event_and_consumer() -> None:
    doc = asyncapi_document(CONSUMED_TOPICS)
    assert doc["asyncapi"] == "3.0.0"
    assert set(doc["channels"]) == set(TOPICS)
    names = {m["name"] for m in doc["components"]["messages"].values()}
    assert names == set(REGISTRY)
    assert "backoffice_receives_intake.applications" in doc["operations"]
    committed = json.loads((SCHEMA_DIR / "asyncapi.json").read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(doc)), "run `python -m contracts.generate`"


def test_our_kafka_records_read_as_cloudevents_with_the_official_sdk() -> None:
    data = ItemRetired(item_id="wc-mzj-lnyd", version=1, effective_to="2026-11-25")
    event = new_event(type="catalog.item.retired", source="/catalog", subject="wc-mzj-lnyd", data=data)
    value, headers = encode(event)
    message = ce_kafka.KafkaMessage(headers=dict(headers), key=event.subject.encode(), value=value)
    parsed = ce_kafka.from_binary_event(message)
    assert parsed.get_id() == event.id
    assert parsed.get_type() == "catalog.item.retired"
    assert parsed.get_subject() == "wc-mzj-lnyd"
    assert decode(Record(topic="catalog.items", key=None, value=value, headers=headers)) == event
