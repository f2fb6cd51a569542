"""One OpenAPI 3.1 document merged from the services': paths prefixed, components namespaced."""

from __future__ import annotations

import copy
import json
from typing import Any

from gateway.routes import PREFIX, documented_paths
from servicekit.problems import ProblemDetails

_REF = "#/components/schemas/"
# What the gateway itself may answer on any route, besides what the service documents.
GATEWAY_ERRORS = {
    "401": "未认证 Unauthenticated",
    "403": "无权访问 Forbidden",
    "413": "请求体过大 Body too large",
    "429": "请求过于频繁 Too many requests",
    "502": "上游服务不可达 Upstream unreachable",
    "503": "上游服务不可用 Upstream unavailable",
    "504": "上游服务超时 Upstream timeout",
}
SCOPES = {
    "catalog:read": "读取事项目录 Read the catalogue",
    "catalog:write": "维护事项目录 Maintain the catalogue",
    "intake:apply": "提交申请 Submit applications",
    "intake:read": "查看申请 Read applications",
    "hall:operate": "大厅窗口叫号办理 Call and serve at a hall window",
    "backoffice:read": "查看部门任务 Read department tasks",
    "backoffice:decide": "办理决定 Decide tasks",
    "rating:write": "评价办件 Rate your own case (好差评)",
    "complaint:write": "登记投诉 File complaints (12345)",
    "notify:read": "查看消息 Read messages",
    "datashare:read": "查看证照 Read certificates",
    "datashare:request": "申请数据共享 Request evidence",
    "admin": "运维 Operate the platform",
}


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
    schemas["ProblemDetails"] = ProblemDetails.model_json_schema(ref_template=_REF + "{model}")
    schemas.update(schemas["ProblemDetails"].pop("$defs", {}))
    problem = {"application/problem+json": {"schema": {"$ref": f"{_REF}ProblemDetails"}}}
    for operations in paths.values():
        for operation in operations.values():
            operation["security"] = [{"oauth2": []}]
            for status, title in GATEWAY_ERRORS.items():
                operation["responses"].setdefault(status, {"description": title, "content": problem})
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
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "description": "Client credentials; the provincial app exchanges citizen SSO assertions "
                    "with grant_type urn:ietf:params:oauth:grant-type:jwt-bearer.",
                    "flows": {"clientCredentials": {"tokenUrl": "/api/v1/auth/token", "scopes": SCOPES}},
                }
            },
        },
    }


def _operation(service: str, op: dict[str, Any]) -> dict[str, Any]:
    op = copy.deepcopy(op)
    op["operationId"] = f"{service}_{op.get('operationId', '')}"
    op["tags"] = [service]
    return op
