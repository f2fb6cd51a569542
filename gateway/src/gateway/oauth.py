"""`POST /api/v1/auth/token`: OAuth2 client credentials (RFC 6749 §4.4) and the citizen exchange;
`POST /api/v1/auth/revoke`: a client revokes one of its own tokens (RFC 7009).

Errors carry RFC 6749's `error` / `error_description` inside a problem details body.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from urllib.parse import parse_qs, unquote

from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from gateway.citizens import InvalidAssertion, SsoTrust
from gateway.clients import Client, ClientRegistry
from gateway.tokens import InvalidToken, TokenIssuer
from servicekit.identity import Identity
from servicekit.problems import problem_response

TOKEN_PATH = "/api/v1/auth/token"  # noqa: S105 - a URL path, not a secret
REVOKE_PATH = "/api/v1/auth/revoke"
TOKEN_PATHS = frozenset({TOKEN_PATH, REVOKE_PATH})
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CITIZEN_SCOPES = frozenset(
    {"catalog:read", "intake:apply", "intake:read", "notify:read", "datashare:read", "rating:write"}
)
_MAX_BODY = 16 * 1024


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class TokenEndpoint:
    def __init__(self, registry: ClientRegistry, issuer: TokenIssuer, sso: SsoTrust | None) -> None:
        self.registry = registry
        self.issuer = issuer
        self.sso = sso

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if scope["path"] == REVOKE_PATH:
                await self._revoke(scope, receive)
                await Response(status_code=200, headers={"Cache-Control": "no-store"})(scope, receive, send)
                return
            identity = await self._grant(scope, receive)
        except OAuthError as exc:
            response = problem_response(
                exc.status,
                f"oauth_{exc.error}",
                "令牌申请失败 Token request refused",
                exc.description,
                headers={"WWW-Authenticate": "Basic"} if exc.status == 401 else None,
                extra={"error": exc.error, "error_description": exc.description},
            )
            await response(scope, receive, send)
            return
        token = self.issuer.issue(identity)
        body = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.issuer.ttl_s,
            "scope": " ".join(sorted(identity.scopes)),
        }
        await JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})(
            scope, receive, send
        )

    async def _form(self, scope: Scope, receive: Receive) -> tuple[Client, dict[str, str]]:
        """The authenticated client and its form-encoded request."""
        if scope["method"] != "POST":
            raise OAuthError("invalid_request", "use POST", 405)
        headers = dict(scope["headers"])
        if not headers.get(b"content-type", b"").startswith(b"application/x-www-form-urlencoded"):
            raise OAuthError("invalid_request", "body must be application/x-www-form-urlencoded")
        form = {k: v[0] for k, v in parse_qs((await _read(receive)).decode("utf-8", "replace")).items()}
        return await self._client(headers.get(b"authorization"), form), form

    async def _revoke(self, scope: Scope, receive: Receive) -> None:
        """RFC 7009 §2.1: only the client a token was issued to may revoke it; an invalid token is no error."""
        client, form = await self._form(scope, receive)
        if not form.get("token"):
            raise OAuthError("invalid_request", "the form field token is required")
        try:
            verified = self.issuer.verify_token(form["token"])
        except InvalidToken:
            return  # expired, unknown or already revoked: nothing left to refuse
        if verified.identity.client_id != client.client_id:
            raise OAuthError("unauthorized_client", "this token was issued to another client")
        self.issuer.revoke(verified.jti, verified.expires_at)

    async def _grant(self, scope: Scope, receive: Receive) -> Identity:
        client, form = await self._form(scope, receive)
        grant = form.get("grant_type")
        if grant == "client_credentials":
            identity = _identity_of(client)
        elif grant == JWT_BEARER:
            identity = self._citizen(client, form.get("assertion", ""))
        else:
            raise OAuthError("unsupported_grant_type", f"grant_type {grant!r} is not supported")
        requested = form.get("scope")
        if requested:
            wanted = frozenset(requested.split())
            if not wanted <= identity.scopes:
                raise OAuthError(
                    "invalid_scope", f"not granted: {' '.join(sorted(wanted - identity.scopes))}"
                )
            identity = Identity(**{**identity.__dict__, "scopes": wanted})
        return identity

    async def _client(self, authorization: bytes | None, form: dict[str, str]) -> Client:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.lower().startswith(b"basic "):
            try:
                decoded = base64.b64decode(authorization[6:], validate=True).decode()
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise OAuthError("invalid_client", "malformed Basic credentials", 401) from exc
            raw_id, _, raw_secret = decoded.partition(":")
            client_id, secret = unquote(raw_id), unquote(raw_secret)
        if not client_id or not secret:
            raise OAuthError("invalid_client", "client authentication required", 401)
        # scrypt is deliberately slow: keep it off the event loop.
        client = await asyncio.to_thread(self.registry.authenticate, client_id, secret)
        if client is None:
            raise OAuthError("invalid_client", "unknown client or wrong secret", 401)
        return client

    def _citizen(self, client: Client, assertion: str) -> Identity:
        if not client.may_assert_citizens or self.sso is None:
            raise OAuthError("unauthorized_client", "this client may not exchange citizen assertions")
        try:
            citizen = self.sso.verify(assertion)
        except InvalidAssertion as exc:
            raise OAuthError("invalid_grant", str(exc)) from exc
        return Identity(
            kind="citizen",
            client_id=client.client_id,
            scopes=CITIZEN_SCOPES,
            citizen_id=citizen.id_number,
            citizen_name=citizen.name,
        )


def _identity_of(client: Client) -> Identity:
    return Identity(
        kind=client.kind,
        client_id=client.client_id,
        scopes=client.scopes,
        department=client.department,
        window=client.window,
        role=client.role,
        citizen_id=client.citizen_id,
        citizen_name=client.citizen_name,
    )


async def _read(receive: Receive) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > _MAX_BODY:
            raise OAuthError("invalid_request", "request too large", 413)
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)
