"""The verified-token cache: reused until exp, and never past a key's retirement or a revocation."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from gateway.keys import KeySet
from gateway.routing import RouteNotFound, match
from gateway.tokencache import TokenCache
from gateway.tokens import InvalidToken, TokenIssuer
from servicekit.identity import Identity, verify

from .conftest import TokenFor, bearer

OPERATOR = Identity(kind="operator", client_id="operator", scopes=frozenset({"admin"}))
KEY = b"k" * 32


@pytest.fixture
def issuer() -> TokenIssuer:
    return TokenIssuer(KeySet.load_or_create(None, retain_s=600), issuer="i", audience="a", ttl_s=300)


def test_a_token_is_verified_once_and_refused_from_its_exp_on(issuer: TokenIssuer) -> None:
    cache = TokenCache(issuer, KEY)
    now = time.time()
    token = issuer.issue(OPERATOR, now=now)
    first = cache.verify(token, now)
    assert cache.verify(token, now + 1) is first  # the same verdict, not a second verification
    assert first.identity.client_id == "operator"
    with pytest.raises(InvalidToken, match="token expired"):
        cache.verify(token, now + 300)
    assert len(cache) == 0


def test_a_cached_token_dies_with_its_signing_key(issuer: TokenIssuer) -> None:
    cache = TokenCache(issuer, KEY)
    now = issuer.keys.current.created_at
    token = issuer.issue(OPERATOR, now=now)
    cache.verify(token, now)
    issuer.keys.rotate(now=now + 601)  # the old key stops signing, still verifies...
    cache.verify(token, now + 2)
    issuer.keys.rotate(now=now + 602)  # ...until it is retired
    with pytest.raises(InvalidToken, match="unknown signing key"):
        cache.verify(token, now + 3)


def test_a_revoked_token_is_refused_even_when_cached(issuer: TokenIssuer) -> None:
    cache = TokenCache(issuer, KEY)
    token = issuer.issue(OPERATOR)
    verified = cache.verify(token).verified
    issuer.revoke(verified.jti, verified.expires_at)
    with pytest.raises(InvalidToken, match="token revoked"):
        cache.verify(token)
    with pytest.raises(InvalidToken, match="token revoked"):
        issuer.verify(token)  # and a fresh verification agrees


def test_the_cache_is_a_bounded_lru(issuer: TokenIssuer) -> None:
    cache = TokenCache(issuer, KEY, max_entries=2)
    tokens = [issuer.issue(OPERATOR) for _ in range(3)]
    first = cache.verify(tokens[0])
    cache.verify(tokens[1])
    cache.verify(tokens[0])  # used again: now the most recent
    cache.verify(tokens[2])  # evicts tokens[1], the least recently used
    assert len(cache) == 2
    assert cache.verify(tokens[0]) is first
    assert cache.verify(tokens[1]) is not None  # verified again from scratch


def test_the_identity_header_is_reused_while_at_least_half_valid(issuer: TokenIssuer) -> None:
    cache = TokenCache(issuer, KEY)
    now = time.time()
    entry = cache.verify(issuer.issue(OPERATOR, now=now), now)
    header = cache.identity_header(entry, now)
    assert cache.identity_header(entry, now + 29) is header
    renewed = cache.identity_header(entry, now + 31)
    assert renewed != header
    assert verify(renewed.decode(), KEY, now + 31 + 59) == OPERATOR  # valid a full TTL from renewal


async def test_a_client_revokes_its_own_token_and_only_its_own(
    gateway: httpx.AsyncClient, token_for: TokenFor
) -> None:
    token = await token_for("dept-wc-mzj")
    url = "/api/v1/backoffice/tasks"
    params = {"department_code": "wc-mzj"}
    assert (await gateway.get(url, params=params, headers=bearer(token))).status_code == 200
    other = await gateway.post(
        "/api/v1/auth/revoke", data={"token": token}, auth=("dept-wc-rsj", "demo-dept-wc-rsj")
    )
    assert other.status_code == 400
    assert other.json()["error"] == "unauthorized_client"
    assert (await gateway.get(url, params=params, headers=bearer(token))).status_code == 200
    own = await gateway.post(
        "/api/v1/auth/revoke", data={"token": token}, auth=("dept-wc-mzj", "demo-dept-wc-mzj")
    )
    assert own.status_code == 200
    refused = await gateway.get(url, params=params, headers=bearer(token))
    assert refused.status_code == 401
    assert refused.json()["detail"] == "token revoked"


@pytest.mark.parametrize(
    ("data", "auth", "status", "error"),
    [
        ({}, ("zlb-app", "demo-zlb-app"), 400, "invalid_request"),
        ({"token": "x"}, ("zlb-app", "wrong"), 401, "invalid_client"),
        ({"token": "not.a.token"}, ("zlb-app", "demo-zlb-app"), 200, None),  # RFC 7009: no error
    ],
)
async def test_bad_revocation_requests(
    gateway: httpx.AsyncClient, data: dict[str, str], auth: tuple[str, str], status: int, error: str | None
) -> None:
    response = await gateway.post("/api/v1/auth/revoke", data=data, auth=auth)
    assert response.status_code == status
    if error is not None:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["error"] == error


def test_fixed_paths_win_over_templates_and_dots_are_literal() -> None:
    export, _ = match("GET", "/api/v1/catalog/items/export")
    assert (export.path, export.rate_per_s) == ("/items/export", 1)
    item, path = match("GET", "/api/v1/catalog/items/wc-mzj-lnyd")
    assert (item.path, path) == ("/items/{item_id}", "/items/wc-mzj-lnyd")
    assert match("HEAD", "/api/v1/catalog/items/x/guide.html")[0].path == "/items/{item_id}/guide.html"
    with pytest.raises(RouteNotFound):
        match("GET", "/api/v1/catalog/items/x/guideXhtml")
    with pytest.raises(RouteNotFound):
        match("GET", "/api/v1/catalog/items/")  # a parameter is never empty


def test_jwt_without_jti_is_refused(issuer: TokenIssuer) -> None:
    claims = jwt.decode(issuer.issue(OPERATOR), options={"verify_signature": False})
    del claims["jti"]
    key = issuer.keys.current
    token = jwt.encode(claims, key.private, algorithm="EdDSA", headers={"kid": key.kid})
    with pytest.raises(InvalidToken, match="MissingRequiredClaimError"):
        issuer.verify(token)
