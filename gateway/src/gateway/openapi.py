"""One OpenAPI 3.1 document merged from the services': paths prefixed, components namespaced."""

from __future__ import annotations

import copy
import json
from typing import Any

from gateway.routes import PREFIX, documented_paths

_REF = "#/components/schemas/"


def _namespace(service: str, name: str) -> str:
    return f"{service.capitalize()}_{name}"


def _rename_refs(node: Any, service: str) -> Any:
    text = json.dumps(node)
    text = text.replace(f'"{_REF}', f'"{_REF}{service.capitalize()}_')
    return json.loads(text)


def merge(specs: dict[str, dict[str, Any]], *, title: str, version: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for service, spec in sorted(specs.items()):
        allowed = documented_paths(service)
        for path, operations in spec.get("paths", {}).items():
            kept = {
                method: _operation(service, op)
                for method, op in operations.items()
                if (method.upper(), path) in allowed
            }
            if kept:
                paths[f"{PREFIX}{service}{path}"] = _rename_refs(kept, service)
        for name, schema in spec.get("components", {}).get("schemas", {}).items():
            schemas[_namespace(service, name)] = _rename_refs(schema, service)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "婺城区“最多跑一次”平台 REST API, one document for all services. Errors are "
            "problem details (application/problem+json) with a stable `code`.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _operation(service: str, op: dict[str, Any]) -> dict[str, Any]:
    op = copy.deepcopy(op)
    op["operationId"] = f"{service}_{op.get('operationId', '')}"
    op["tags"] = [service]
    return op
