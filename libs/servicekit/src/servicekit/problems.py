"""Problem details (RFC 9457) for every error: a stable code, Chinese and English text, the bad field."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    field: str
    rule: str
    message: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details as every error of the platform is answered."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine-readable error code")
    instance: str | None = None
    errors: list[FieldError] | None = None


ERROR_STATUSES = {
    "401": "未认证 Unauthenticated",
    "403": "无权访问 Forbidden",
    "404": "未找到 Not found",
    "409": "数据冲突 Conflict",
    "422": "请求参数有误 Invalid request",
}


def document_problems(spec: dict[str, Any]) -> dict[str, Any]:
    """Make the OpenAPI say what the service really answers on errors: problem+json, not FastAPI's."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas["ProblemDetails"] = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schemas["ProblemDetails"].pop("$defs", {}))
    ref = {"$ref": "#/components/schemas/ProblemDetails"}
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, title in ERROR_STATUSES.items():
                responses[status] = {"description": title, "content": {PROBLEM_JSON: {"schema": ref}}}
    return spec


class Problem(Exception):
    """Raise from a service function; the app turns it into a problem+json response."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        **(extra or {}),
        "type": f"https://wucheng.example.gov.cn/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def not_found(what: str, key: str) -> Problem:
    return Problem(404, "not_found", "未找到 Not found", f"{what} {key} 不存在 (not found)")


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.code,
            exc.title,
            exc.detail,
            instance=request.url.path,
            errors=exc.errors,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(p) for p in err["loc"] if p != "body"),
                "rule": err["type"],
                "message": err["msg"],
            }
            for err in exc.errors()
        ]
        fields = ", ".join(e["field"] for e in errors)
        return problem_response(
            422,
            "validation_failed",
            "请求参数有误 Invalid request",
            f"字段不符合要求 (invalid fields): {fields}",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(
            exc.status_code,
            f"http_{exc.status_code}",
            "请求失败 Request failed",
            str(exc.detail),
            instance=request.url.path,
            headers=dict(exc.headers or {}),
        )
