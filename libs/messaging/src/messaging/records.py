"""Kafka records and the CloudEvents Kafka binary binding (ce_* headers, JSON data as the value)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.envelope import Event

Headers = Sequence[tuple[str, bytes]]

_ATTRIBUTES = ("id", "source", "type", "subject", "specversion", "requestid")


@dataclass(frozen=True)
class Record:
    """One record as it travels; `partition`/`offset` are set on consumed records only."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers = ()
    partition: int = 0
    offset: int = -1
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", errors="replace")
        return None


class MalformedRecord(ValueError):
    """The record is not a CloudEvent we can read: it goes to the DLQ without retries."""


def encode(event: Event) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The value and headers of `event` in binary content mode."""
    headers = [
        (f"ce_{name}", str(value).encode())
        for name in _ATTRIBUTES
        if (value := getattr(event, name)) is not None
    ]
    headers.append(("ce_time", event.time.isoformat().encode()))
    headers.append(("content-type", event.datacontenttype.encode()))
    value = json.dumps(event.data, ensure_ascii=False, separators=(",", ":")).encode()
    return value, headers


def decode(record: Record) -> Event:
    """Read a CloudEvent back from a record; MalformedRecord says why it cannot be read."""
    attrs: dict[str, Any] = {}
    for name in (*_ATTRIBUTES, "time"):
        value = record.header(f"ce_{name}")
        if value is not None:
            attrs[name] = value
    missing = [n for n in ("id", "source", "type", "subject", "time") if n not in attrs]
    if missing:
        raise MalformedRecord(f"missing CloudEvents headers: {', '.join('ce_' + m for m in missing)}")
    if record.value is None:
        raise MalformedRecord("record has no value")
    try:
        data = json.loads(record.value)
        attrs["time"] = datetime.fromisoformat(attrs["time"])
    except ValueError as exc:
        raise MalformedRecord(f"unreadable record: {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedRecord("event data is not a JSON object")
    try:
        return Event(data=data, datacontenttype=record.header("content-type") or "application/json", **attrs)
    except ValueError as exc:
        raise MalformedRecord(f"invalid CloudEvents attributes: {exc}") from exc
