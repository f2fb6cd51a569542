"""Gateway routing: the allow-list, path tricks, body limits, request ids, one OpenAPI, readiness."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from openapi_spec_validator import validate

from gateway.main import create_gateway
from gateway.security import Security
from gateway.upstreams import HttpUpstream, Upstream

from .conftest import TokenFor, bearer


@pytest.fixture
async def app_headers(token_for: TokenFor) -> dict[str, str]:
    return bearer(await token_for("zlb-app"))


async def test_known_route_is_forwarded_with_its_prefix_stripped(
    gateway: httpx.AsyncClient, app_headers: dict[str, str]
) -> None:
    response = await gateway.get("/api/v1/catalog/items", params={"q": "社保"}, headers=app_headers)
    assert response.status_code == 200
    assert response.json()["total"] == 0


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/catalog/admin",
        "/api/v1/unknown/items",
        "/api/v1/catalog/items/x/../../healthz",
        "/api/v1/catalog/items/a%2F..%2Fb",
        "/api/v1/catalog/items/%2e%2e",
        "/api/v1/catalog/openapi.json",
        "/api/v1/catalog/readyz",
    ],
)
async def test_unknown_or_tricky_paths_are_404_at_the_gateway(
    gateway: httpx.AsyncClient, app_headers: dict[str, str], path: str
) -> None:
    response = await gateway.get(path, headers=app_headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "route_not_found"


async def test_wrong_method_is_not_forwarded(gateway: httpx.AsyncClient, app_headers: dict[str, str]) -> None:
    assert (await gateway.delete("/api/v1/catalog/items/abc", headers=app_headers)).status_code == 404


async def test_oversized_body_is_refused_before_any_service_sees_it(
    gateway: httpx.AsyncClient, token_for: TokenFor
) -> None:
    response = await gateway.post(
        "/api/v1/catalog/departments",
        content=b"{" + b" " * 5000 + b"}",
        headers=bearer(await token_for("operator")),
    )
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


async def test_bad_input_reaches_the_client_as_the_services_problem(
    gateway: httpx.AsyncClient, token_for: TokenFor
) -> None:
    response = await gateway.post(
        "/api/v1/intake/applications",
        json={"item_id": "x", "applicant_id": "123"},
        headers=bearer(await token_for("window-a01")),
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"applicant_id", "applicant_name"} <= fields


async def test_request_id_is_passed_through_or_generated(
    gateway: httpx.AsyncClient, app_headers: dict[str, str]
) -> None:
    given = await gateway.get("/api/v1/catalog/items", headers={**app_headers, "X-Request-ID": "req-123"})
    assert given.headers["x-request-id"] == "req-123"
    generated = await gateway.get("/api/v1/catalog/items", headers=app_headers)
    assert len(generated.headers["x-request-id"]) == 32
    odd = await gateway.get("/api/v1/catalog/items", headers={**app_headers, "X-Request-ID": "a b;<script>"})
    assert odd.headers["x-request-id"] != "a b;<script>"


async def test_one_merged_openapi_document(gateway: httpx.AsyncClient) -> None:
    spec = (await gateway.get("/openapi.json")).json()
    validate(spec)
    assert "/api/v1/catalog/items/{item_id}" in spec["paths"]
    assert "/api/v1/intake/applications" in spec["paths"]
    assert not any(p.endswith("/readyz") for p in spec["paths"])
    assert "Catalog_ItemPublic" in spec["components"]["schemas"]
    op_ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(op_ids) == len(set(op_ids))
    assert (await gateway.get("/docs")).status_code == 200
    asyncapi = (await gateway.get("/asyncapi.json")).json()
    assert "intake.applications" in asyncapi["channels"]


async def test_readiness_reports_every_upstream(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/readyz")
    assert response.status_code == 200, response.text
    assert set(response.json()["checks"]) == {"catalog", "intake", "backoffice", "notify", "datashare"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def _serving(app: FastAPI, port: int) -> AsyncIterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # uvicorn offers no event for "listening"; poll its flag, bounded
        if server.started:
            break
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def test_http_upstream_forwards_over_the_network_and_answers_502_when_it_is_down(
    service_apps: dict[str, FastAPI], security: Security, token_for: TokenFor
) -> None:
    headers = bearer(await token_for("operator"))
    port, dead_port = _free_port(), _free_port()
    upstreams: dict[str, Upstream] = {
        "catalog": HttpUpstream("catalog", f"http://127.0.0.1:{port}"),
        "intake": HttpUpstream("intake", f"http://127.0.0.1:{dead_port}"),
    }
    transport = httpx.ASGITransport(app=create_gateway(upstreams, security, rate_factor=100))
    async with (
        _serving(service_apps["catalog"], port),
        httpx.AsyncClient(transport=transport, base_url="http://gateway") as client,
    ):
        ok = await client.get("/api/v1/catalog/items", headers={**headers, "X-Request-ID": "via-http"})
        assert ok.status_code == 200
        assert ok.headers["x-request-id"] == "via-http"
        # A 2 MB upload streams through to the service, which sees every row of it.
        rows = "".join(f"{n},不是编码,wc-none\n" for n in range(60_000))
        upload = await client.post(
            "/api/v1/catalog/items/import",
            content=("item_id,base_code,department\n" + rows).encode(),
            headers={**headers, "content-type": "text/csv"},
        )
        assert len(upload.request.content) > 1_500_000
        assert upload.status_code == 413
        assert upload.json()["code"] == "too_many_rows"
        missing = await client.get("/api/v1/catalog/items/none", headers=headers)
        assert missing.status_code == 404
        assert missing.json()["code"] == "not_found"
        down = await client.get("/api/v1/intake/applications/abc", headers=headers)
        assert down.status_code == 502
        assert down.headers["retry-after"] == "5"
        # Each GET was tried three times; the breaker opens and answers at once without trying.
        statuses = [
            (await client.get("/api/v1/intake/applications/abc", headers=headers)).status_code
            for _ in range(3)
        ]
        assert statuses[-1] == 503
        opened = await client.get("/api/v1/intake/applications/abc", headers=headers)
        assert opened.json()["code"] == "upstream_circuit_open"
        assert 1 <= int(opened.headers["retry-after"]) <= 10
        assert upstreams["intake"].breaker.state == "open"  # type: ignore[attr-defined]
        for upstream in upstreams.values():
            await upstream.close()
