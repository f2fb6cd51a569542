"""JSON Schemas of event payloads, and the rule that a change may only add optional fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contracts.envelope import Event
from contracts.registry import REGISTRY

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def payload_schema(event_type: str) -> dict[str, Any]:
    schema = REGISTRY[event_type].model.model_json_schema()
    schema["$id"] = f"urn:zuiduo:event:{event_type}"
    schema["title"] = event_type
    return schema


def envelope_schema() -> dict[str, Any]:
    return Event.model_json_schema()


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref and ref.startswith("#/$defs/"):
        return _resolve(schema, schema["$defs"][ref.removeprefix("#/$defs/")])
    return node


def _types(schema: dict[str, Any], node: dict[str, Any]) -> set[str]:
    """The set of JSON types a property accepts, looking through anyOf and $ref."""
    node = _resolve(schema, node)
    if "anyOf" in node:
        return set().union(*(_types(schema, n) for n in node["anyOf"]))
    kind = node.get("type")
    if kind is None:
        return {"any"}
    fmt = node.get("format")
    return {f"{kind}:{fmt}" if fmt else str(kind)}


def compatibility_problems(old: dict[str, Any], new: dict[str, Any], path: str = "") -> list[str]:
    """What in `new` would break a consumer written against `old` (removed, retyped, newly required)."""
    problems: list[str] = []
    old_props: dict[str, Any] = old.get("properties", {})
    new_props: dict[str, Any] = new.get("properties", {})
    for name, old_node in old_props.items():
        where = f"{path}{name}"
        if name not in new_props:
            problems.append(f"{where}: removed")
            continue
        old_t, new_t = _types(old, old_node), _types(new, new_props[name])
        if not old_t <= new_t:
            problems.append(f"{where}: type {sorted(old_t)} became {sorted(new_t)}")
        old_obj, new_obj = _resolve(old, old_node), _resolve(new, new_props[name])
        if "properties" in old_obj and "properties" in new_obj:
            problems += compatibility_problems(
                {**old_obj, "$defs": old.get("$defs", {})},
                {**new_obj, "$defs": new.get("$defs", {})},
                f"{where}.",
            )
        old_items, new_items = old_obj.get("items"), new_obj.get("items")
        if isinstance(old_items, dict) and isinstance(new_items, dict):
            problems += compatibility_problems(
                {**_resolve(old, old_items), "$defs": old.get("$defs", {})},
                {**_resolve(new, new_items), "$defs": new.get("$defs", {})},
                f"{where}[].",
            )
    for name in set(new.get("required", [])) - set(old.get("required", [])):
        problems.append(f"{path}{name}: newly required")
    return problems


def committed_schema(event_type: str) -> dict[str, Any] | None:
    path = SCHEMA_DIR / f"{event_type}.json"
    if not path.exists():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded
