"""The gateway's auth matrix: tokens, scopes, ownership, forged headers, floods (each a test)."""

from __future__ import annotations

import base64
import json
import time
from datetime import date
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from contracts.catalog import ItemPublished, MaterialSpec
from contracts.envelope import new_event
from gateway.citizens import DemoSso
from gateway.demo import DEMO_CITIZEN_ID
from gateway.security import Security
from gateway.tokens import TokenIssuer
from intake.handlers import item_published
from servicekit.identity import HEADER, Identity, sign

from .conftest import TokenFor, bearer

OTHER_CITIZEN_ID = "330702198810240027"
ITEM = ItemPublished(
    item_id="wc-mzj-lnyd",
    version=1,
    base_code="332005001000",
    implementation_code="11330702002609732X" + "4" + "332005001000",
    name="老年人优待证办理",
    department_code="wc-mzj",
    handling_type="即办件",
    deciding_level="district",
    promised_limit_days=0,
    promised_limit_unit="工作日",
    trips=0,
    minsheng=True,
    materials=[
        MaterialSpec(name="居民身份证", required=True, key=True, rongque=False, certificate_type="id_card")
    ],
    effective_from=date(2026, 1, 1),
)


@pytest.fixture
async def item_known_to_intake(service_apps: dict[str, FastAPI]) -> None:
    event = new_event(type="catalog.item.published", source="/catalog", subject=ITEM.item_id, data=ITEM)
    async with service_apps["intake"].state.sessions.begin() as session:
        await item_published(session, event)


async def citizen_token(gateway: httpx.AsyncClient, token_for: TokenFor, sso: DemoSso, id_number: str) -> str:
    """What the provincial app does after the citizen logs in with the SSO."""
    response = await gateway.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": sso.assertion(id_number, "李四"),
        },
        auth=("zlb-app", "demo-zlb-app"),
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


# --- tokens -------------------------------------------------------------------------------------


async def test_token_endpoint_issues_short_lived_eddsa_tokens_verifiable_by_the_jwks(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "scope": "catalog:read"},
        auth=("zlb-app", "demo-zlb-app"),
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert (body["token_type"], body["scope"], body["expires_in"]) == ("Bearer", "catalog:read", 300)
    jwks = (await gateway.get("/.well-known/jwks.json")).json()
    key = jwt.PyJWK(jwks["keys"][0])
    claims = jwt.decode(body["access_token"], key.key, algorithms=["EdDSA"], audience="zuiduo-api")
    assert claims["client_id"] == "zlb-app"


@pytest.mark.parametrize(
    ("data", "auth", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, ("zlb-app", "wrong"), 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, ("nobody", "demo-nobody"), 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, None, 401, "invalid_client"),
        ({"grant_type": "password"}, ("zlb-app", "demo-zlb-app"), 400, "unsupported_grant_type"),
        (
            {"grant_type": "client_credentials", "scope": "admin"},
            ("zlb-app", "demo-zlb-app"),
            400,
            "invalid_scope",
        ),
        (
            {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": "x"},
            ("window-a01", "demo-window-a01"),
            400,
            "unauthorized_client",
        ),
        (
            {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": "not.a.jwt"},
            ("zlb-app", "demo-zlb-app"),
            400,
            "invalid_grant",
        ),
    ],
)
async def test_token_requests_refused_with_oauth_errors(
    gateway: httpx.AsyncClient, data: dict[str, str], auth: tuple[str, str] | None, status: int, error: str
) -> None:
    request_auth = auth if auth is not None else httpx.USE_CLIENT_DEFAULT
    response = await gateway.post("/api/v1/auth/token", data=data, auth=request_auth)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["error"] == error


async def test_a_citizen_assertion_not_signed_by_the_sso_is_refused(gateway: httpx.AsyncClient) -> None:
    forged = DemoSso("https://sso.demo.zjzwfw.local", Ed25519PrivateKey.generate()).assertion(
        OTHER_CITIZEN_ID, "冒名"
    )
    response = await gateway.post(
        "/api/v1/auth/token",
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": forged},
        auth=("zlb-app", "demo-zlb-app"),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_form_encoding_is_required(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/api/v1/auth/token", json={"grant_type": "client_credentials"})
    assert response.json()["error"] == "invalid_request"


def _none_token(claims: dict[str, object]) -> str:
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


async def test_missing_expired_wrongly_signed_and_alg_none_tokens_are_401(
    gateway: httpx.AsyncClient, security: Security
) -> None:
    url = "/api/v1/catalog/items"
    assert (await gateway.get(url)).status_code == 401
    operator = Identity(kind="operator", client_id="operator", scopes=frozenset({"admin"}))
    expired = security.issuer.issue(operator, now=time.time() - 3600)
    other_keys = TokenIssuer(
        type(security.issuer.keys).load_or_create(None, 60),
        issuer=security.issuer.issuer,
        audience="zuiduo-api",
        ttl_s=300,
    )
    claims = jwt.decode(security.issuer.issue(operator), options={"verify_signature": False})
    hs256 = jwt.encode(
        claims,
        "a-shared-secret-of-thirty-two-bytes!",
        algorithm="HS256",
        headers={"kid": security.issuer.keys.current.kid},
    )
    for token, reason in [
        (expired, "token expired"),
        (other_keys.issue(operator), "unknown signing key"),
        (_none_token(claims), "algorithm 'none' not accepted"),
        (hs256, "algorithm 'HS256' not accepted"),
        ("garbage", "malformed token"),
    ]:
        response = await gateway.get(url, headers=bearer(token))
        assert response.status_code == 401, reason
        assert response.json()["detail"] == reason
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_token_without_the_routes_scope_is_403(
    gateway: httpx.AsyncClient, token_for: TokenFor
) -> None:
    response = await gateway.post(
        "/api/v1/catalog/items", json={}, headers=bearer(await token_for("zlb-app"))
    )
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


# --- ownership ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("item_known_to_intake")
async def test_a_citizen_cannot_read_another_citizens_application(
    gateway: httpx.AsyncClient, token_for: TokenFor, demo_sso: DemoSso
) -> None:
    mine = bearer(await citizen_token(gateway, token_for, demo_sso, OTHER_CITIZEN_ID))
    body = {"item_id": ITEM.item_id, "applicant_id": OTHER_CITIZEN_ID, "applicant_name": "李四"}
    created = await gateway.post("/api/v1/intake/applications", json=body, headers=mine)
    assert created.status_code == 201, created.text
    application = created.json()
    assert (
        await gateway.get(f"/api/v1/intake/applications/{application['id']}", headers=mine)
    ).status_code == 200
    other = bearer(await token_for("citizen-demo"))
    guessed = await gateway.get(f"/api/v1/intake/applications/{application['id']}", headers=other)
    assert guessed.status_code == 404
    # applying in someone else's name is refused too
    body_for_other = {**body, "applicant_id": DEMO_CITIZEN_ID}
    assert (
        await gateway.post("/api/v1/intake/applications", json=body_for_other, headers=mine)
    ).status_code == 403
    # the case number is no key either: messages for it are the applicant's only
    messages = await gateway.get(
        "/api/v1/notify/messages", params={"case_number": application["case_number"]}, headers=other
    )
    assert messages.json() == []


async def test_department_a_cannot_read_department_bs_tasks(
    gateway: httpx.AsyncClient, token_for: TokenFor
) -> None:
    mzj = bearer(await token_for("dept-wc-mzj"))
    own = await gateway.get("/api/v1/backoffice/tasks", params={"department_code": "wc-mzj"}, headers=mzj)
    assert own.status_code == 200
    other = await gateway.get("/api/v1/backoffice/tasks", params={"department_code": "wc-rsj"}, headers=mzj)
    assert other.status_code == 403


# --- forged and injected headers -----------------------------------------------------------------


async def test_services_refuse_calls_that_bypass_the_gateway(service_apps: dict[str, FastAPI]) -> None:
    transport = httpx.ASGITransport(app=service_apps["intake"])
    forged = sign(Identity(kind="operator", client_id="x", scopes=frozenset({"admin"})), b"guessed-key")
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as direct:
        assert (await direct.get("/applications/abc")).status_code == 401
        response = await direct.get("/applications/abc", headers={HEADER: forged})
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"


async def test_an_identity_header_sent_to_the_gateway_is_replaced_not_trusted(
    gateway: httpx.AsyncClient, token_for: TokenFor, security: Security
) -> None:
    forged = sign(
        Identity(kind="operator", client_id="x", scopes=frozenset({"admin"})), security.internal_key
    )
    headers = {**bearer(await token_for("dept-wc-mzj")), HEADER: forged}
    response = await gateway.get(
        "/api/v1/backoffice/tasks", params={"department_code": "wc-rsj"}, headers=headers
    )
    assert response.status_code == 403


async def test_header_injection_in_request_id_does_not_reach_the_response(gateway: httpx.AsyncClient) -> None:
    # httpx refuses CR/LF in header values, so the raw ASGI scope is the honest place to try it.
    app = gateway._transport.app  # type: ignore[attr-defined]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/healthz",
        "raw_path": b"/healthz",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"x-request-id", b"abc\r\nSet-Cookie: pwned=1")],
        "client": ("1.2.3.4", 1),
        "server": ("gateway", 80),
    }
    await app(scope, receive, send)
    headers = dict(sent[0]["headers"])
    assert b"pwned" not in headers[b"x-request-id"]
    assert b"set-cookie" not in headers


# --- limits -------------------------------------------------------------------------------------


async def test_a_flood_from_one_client_is_429_and_does_not_slow_another(
    gateway: httpx.AsyncClient, token_for: TokenFor
) -> None:
    flooder = bearer(await token_for("window-a01"))
    quiet = bearer(await token_for("dept-wc-rsj"))
    # The bucket holds 40 and refills at 20/s: a flood of back-to-back calls drains it whatever the
    # machine's speed (a call would have to take over 50 ms to keep up with the refill).
    responses: list[httpx.Response] = []
    while len(responses) < 400 and (not responses or responses[-1].status_code != 429):
        responses.append(await gateway.get("/api/v1/intake/applications/none", headers=flooder))
    limited = responses[-1]
    assert limited.status_code == 429
    assert {r.status_code for r in responses[:40]} == {404}  # the whole bucket first, then the refusal
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["ratelimit-remaining"] == "0"
    assert limited.headers["ratelimit-limit"] == "40"
    assert "ratelimit-reset" in limited.headers
    other = await gateway.get("/api/v1/intake/applications/none", headers=quiet)
    assert other.status_code == 404


async def test_metrics_count_requests_and_refusals(gateway: httpx.AsyncClient, token_for: TokenFor) -> None:
    await gateway.get("/api/v1/catalog/items", headers=bearer(await token_for("zlb-app")))
    await gateway.get("/api/v1/catalog/items")
    text = (await gateway.get("/metrics")).text
    assert 'gateway_requests_total{route="GET /items",service="catalog",status="200"} 1.0' in text
    assert 'gateway_rejected_total{reason="unauthenticated"} 1.0' in text
