"""The app factory every service uses: problem details, request ids, /healthz and /readyz."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncEngine

from servicekit.db import make_sessionmaker
from servicekit.migrations import current_revision, head_revision
from servicekit.outage import install_outage_handler
from servicekit.problems import document_problems, install_problem_handlers
from servicekit.requestid import RequestIdMiddleware


def create_service_app(
    *,
    name: str,
    title: str,
    description: str,
    engine: AsyncEngine,
    internal_key: bytes,
    migrations_dir: Path,
    routers: list[APIRouter],
    on_shutdown: Callable[[], Any] | None = None,
) -> FastAPI:
    head = head_revision(migrations_dir)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if on_shutdown is not None:
            await on_shutdown()
        await engine.dispose()

    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        # Operation ids are the function names: readable names in generated clients.
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.engine = engine
    app.state.sessions = make_sessionmaker(engine)
    app.state.service_name = name
    app.state.internal_key = internal_key
    install_problem_handlers(app)
    install_outage_handler(app)
    app.add_middleware(RequestIdMiddleware)

    @app.get("/healthz", tags=["ops"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": name}

    @app.get("/readyz", tags=["ops"], summary="Readiness: database reachable and migrated to head")
    async def readyz() -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            async with engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
            checks["database"] = "ok"
            revision = await current_revision(engine)
            checks["migrations"] = "ok" if revision == head else f"at {revision}, head is {head}"
        except (sa.exc.DBAPIError, OSError) as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values()) and "migrations" in checks
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "service": name, "checks": checks},
            status_code=200 if ready else 503,
        )

    for router in routers:
        app.include_router(router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(
                get_openapi(
                    title=app.title, version=app.version, description=app.description, routes=app.routes
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
