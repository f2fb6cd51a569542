"""Write the committed JSON Schemas and the AsyncAPI document: `python -m contracts.generate`."""

from __future__ import annotations

import json
import sys

from contracts.asyncapi import asyncapi_document
from contracts.consumers import CONSUMED_TOPICS
from contracts.registry import REGISTRY
from contracts.schemas import SCHEMA_DIR, committed_schema, compatibility_problems, payload_schema


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main() -> int:
    SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    broken: list[str] = []
    for event_type in sorted(REGISTRY):
        new = payload_schema(event_type)
        old = committed_schema(event_type)
        if old is not None:
            broken += [f"{event_type}: {p}" for p in compatibility_problems(old, new)]
        (SCHEMA_DIR / f"{event_type}.json").write_text(_dump(new), encoding="utf-8")
    (SCHEMA_DIR / "asyncapi.json").write_text(_dump(asyncapi_document(CONSUMED_TOPICS)), encoding="utf-8")
    for problem in broken:
        print(f"breaking change (publish a .v2 type instead): {problem}", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
