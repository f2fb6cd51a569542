"""The AsyncAPI 3.0 document of all topics and events, generated from the registry."""

from __future__ import annotations

from typing import Any

from contracts.envelope import Event
from contracts.registry import REGISTRY
from contracts.topics import TOPICS

SERVICES = ("catalog", "intake", "backoffice", "notify", "datashare")


def _message_name(event_type: str) -> str:
    return event_type.replace(".", "_")


def asyncapi_document(subscribers: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Build the document; `subscribers` maps a service to the topics it consumes."""
    subscribers = subscribers or {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"CloudEventEnvelope": Event.model_json_schema()}
    channels: dict[str, Any] = {}
    for topic in TOPICS.values():
        channels[topic.name] = {
            "address": topic.name,
            "description": f"{topic.description}. Key: {topic.key}. Writer: {topic.producer}.",
            "messages": {},
        }
    for spec in REGISTRY.values():
        name = _message_name(spec.type)
        schemas[name] = spec.model.model_json_schema(ref_template="#/components/schemas/{model}")
        for def_name, def_schema in schemas[name].pop("$defs", {}).items():
            schemas[def_name] = def_schema
        messages[name] = {
            "name": spec.type,
            "title": spec.type,
            "summary": (spec.model.__doc__ or "").strip(),
            "contentType": "application/json",
            "headers": {
                "type": "object",
                "description": "CloudEvents Kafka binary binding: ce_* headers; key = subject",
                "properties": {
                    f"ce_{attr}": {"type": "string"}
                    for attr in ("id", "source", "type", "subject", "time", "specversion")
                },
            },
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "bindings": {"kafka": {"key": {"type": "string"}}},
        }
        channels[spec.topic.name]["messages"][name] = {"$ref": f"#/components/messages/{name}"}
    operations: dict[str, Any] = {}
    for topic in TOPICS.values():
        refs = [{"$ref": f"#/channels/{topic.name}/messages/{m}"} for m in channels[topic.name]["messages"]]
        operations[f"{topic.producer}_sends_{topic.name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{topic.name}"},
            "messages": refs,
        }
        for service, consumed in sorted(subscribers.items()):
            if topic.name in consumed:
                operations[f"{service}_receives_{topic.name}"] = {
                    "action": "receive",
                    "channel": {"$ref": f"#/channels/{topic.name}"},
                    "messages": refs,
                }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "婺城区最多跑一次平台 events",
            "version": "1.0.0",
            "description": "Events exchanged over Apache Kafka. Every record is a CloudEvents 1.0 "
            "event in binary mode; the ce_id header is the idempotency key. A record that cannot "
            "be handled goes to <topic>.dlq with the error in dlq_* headers.",
        },
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "127.0.0.1:9092", "protocol": "kafka", "description": "make stack"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
