"""The gateway's own endpoints: health, readiness, metrics, JWKS, the merged OpenAPI, AsyncAPI, docs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from contracts.asyncapi import asyncapi_document
from contracts.consumers import CONSUMED_TOPICS

if TYPE_CHECKING:
    from gateway.main import Gateway


class DemoLogin(BaseModel):
    id_number: str = Field(min_length=18, max_length=18)
    name: str = Field(min_length=2, max_length=40)


def ops_app(gateway: Gateway) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        for upstream in gateway.upstreams.values():
            await upstream.close()
        await gateway.limiter.close()

    app = FastAPI(title="Gateway", openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)
    cache: dict[str, Any] = {}

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "gateway"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        checks = await gateway.readiness()
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
        )

    if gateway.security.demo_sso is not None:
        demo_sso = gateway.security.demo_sso

        @app.post("/demo/sso/assertion", include_in_schema=False)
        async def demo_assertion(body: DemoLogin) -> dict[str, str]:
            """What the provincial app gets from the SSO after a citizen logs in (demo only)."""
            return {"assertion": demo_sso.assertion(body.id_number, body.name)}

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        for name, upstream in gateway.upstreams.items():
            breaker = getattr(upstream, "breaker", None)
            if breaker is not None:
                gateway.metrics.breaker_open.labels(name).set(0 if breaker.state == "closed" else 1)
        return Response(gateway.metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/.well-known/jwks.json", include_in_schema=False)
    async def jwks() -> JSONResponse:
        return JSONResponse(gateway.security.issuer.keys.jwks(), headers={"Cache-Control": "max-age=300"})

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi() -> JSONResponse:
        if "spec" not in cache:
            cache["spec"] = await gateway.openapi()
        return JSONResponse(cache["spec"])

    @app.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi() -> JSONResponse:
        return JSONResponse(asyncapi_document(CONSUMED_TOPICS))

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="婺城区最多跑一次平台 API")

    return app
