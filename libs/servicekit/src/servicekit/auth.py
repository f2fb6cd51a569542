"""FastAPI dependencies that read the gateway's identity header and check scopes."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request

from servicekit.identity import HEADER, Identity, InvalidIdentity, verify
from servicekit.problems import Problem


def unauthenticated(reason: str) -> Problem:
    return Problem(
        401,
        "unauthenticated",
        "未认证 Unauthenticated",
        f"请通过网关访问 (call through the gateway): {reason}",
        headers={"WWW-Authenticate": "Bearer"},
    )


def forbidden(detail: str) -> Problem:
    return Problem(403, "forbidden", "无权访问 Forbidden", detail)


async def current_identity(request: Request) -> Identity:
    value = request.headers.get(HEADER)
    if value is None:
        raise unauthenticated("missing identity")
    try:
        return verify(value, request.app.state.internal_key)
    except InvalidIdentity as exc:
        raise unauthenticated(str(exc)) from exc


CurrentIdentity = Annotated[Identity, Depends(current_identity)]


def requires(scope: str) -> Callable[[Identity], Coroutine[Any, Any, Identity]]:
    """Dependency factory: the caller must hold `scope` (re-checked here after the gateway)."""

    async def check(identity: CurrentIdentity) -> Identity:
        if not identity.has(scope):
            raise forbidden(f"需要权限 {scope} (scope {scope} required)")
        return identity

    return check
