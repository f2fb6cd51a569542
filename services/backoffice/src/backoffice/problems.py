"""The back office's refusals as problem details, each naming the field and the rule it broke."""

from __future__ import annotations

from servicekit.problems import Problem


def conflict(code: str, field: str, rule: str, detail: str) -> Problem:
    """409: the request is well formed but the case's state forbids it (state stays unchanged)."""
    return Problem(
        409,
        code,
        "状态不允许 Invalid state",
        detail,
        errors=[{"field": field, "rule": rule, "message": detail}],
    )


def invalid(field: str, rule: str, detail: str) -> Problem:
    """422: a value the rules of the item or the calendar do not allow."""
    return Problem(
        422,
        "validation_failed",
        "请求参数有误 Invalid request",
        f"{detail}: {field}",
        errors=[{"field": field, "rule": rule, "message": detail}],
    )
