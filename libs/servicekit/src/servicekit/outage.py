"""A database or bus outage answers 503 with Retry-After (the caller retries later), never a bare 500."""

from __future__ import annotations

import logging

import asyncpg
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from messaging.consumer import is_outage as _bus_or_database_down
from messaging.transport import TransportError
from servicekit.problems import problem_response

log = logging.getLogger(__name__)

RETRY_AFTER_S = 2
# SQLSTATE classes that mean "the server is not there for you right now": connection exceptions
# (08), operator intervention such as a shutdown or a server still starting up (57P), and
# too_many_connections (53300).
_OUTAGE_SQLSTATES = ("08", "57P", "53300")


def is_outage(exc: BaseException) -> bool:
    """True when the database or the bus is unreachable, as opposed to a bug or bad data."""
    if _bus_or_database_down(exc) or isinstance(exc, sa.exc.TimeoutError):
        return True  # sa.exc.TimeoutError: no pooled connection came free in time
    if isinstance(exc, asyncpg.PostgresConnectionError | asyncpg.CannotConnectNowError):
        return True
    if isinstance(exc, sa.exc.DBAPIError):
        state = getattr(exc.orig, "sqlstate", None)
        return isinstance(state, str) and state.startswith(_OUTAGE_SQLSTATES)
    return False


def install_outage_handler(app: FastAPI) -> None:
    """Map outages to 503 problem details; any other database error stays a logged 500."""

    async def _outage(request: Request, exc: Exception) -> JSONResponse:
        if not is_outage(exc):
            log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
            return problem_response(
                500, "internal_error", "服务内部错误 Internal error", "请稍后重试 (internal error)"
            )
        log.warning("dependency unavailable on %s %s: %r", request.method, request.url.path, exc)
        return problem_response(
            503,
            "dependency_unavailable",
            "服务暂时不可用 Service unavailable",
            "数据库或消息总线暂时不可用，请稍后重试 (a database or the bus is unavailable: retry later)",
            instance=request.url.path,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    for kind in (
        sa.exc.DBAPIError,
        sa.exc.TimeoutError,
        OSError,
        asyncpg.PostgresConnectionError,
        asyncpg.CannotConnectNowError,
        TransportError,
    ):
        app.add_exception_handler(kind, _outage)
