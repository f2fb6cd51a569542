"""The verified caller, as the gateway forwards it: a signed internal header services check.

The gateway authenticates the caller (OAuth2 token), then sends `X-Zuiduo-Identity:
<base64url JSON>.<base64url HMAC-SHA256>` with a short expiry. Services reject requests without a
valid one, so a direct call that bypasses the gateway gets nothing (defence in depth).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Literal

HEADER = "x-zuiduo-identity"
TTL_S = 60

Kind = Literal["citizen", "staff", "system", "operator"]


class InvalidIdentity(ValueError):
    pass


@dataclass(frozen=True)
class Identity:
    kind: Kind
    client_id: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    department: str | None = None  # staff, department and municipal systems
    window: str | None = None  # hall staff
    role: str | None = None  # staff role, e.g. 受理员 / 审批员 / 科长
    citizen_id: str | None = None  # the citizen's resident ID number (citizen tokens only)
    citizen_name: str | None = None

    def has(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(identity: Identity, key: bytes, now: float | None = None) -> str:
    claims = asdict(identity)
    claims["scopes"] = sorted(identity.scopes)
    claims["exp"] = int((now or time.time()) + TTL_S)
    body = _b64(json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode())
    mac = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def verify(value: str, key: bytes, now: float | None = None) -> Identity:
    body, _, mac = value.partition(".")
    try:
        expected = hmac.new(key, body.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(mac)):
            raise InvalidIdentity("bad signature")
        claims = json.loads(_unb64(body))
    except (ValueError, TypeError) as exc:
        raise InvalidIdentity("malformed identity header") from exc
    if claims.pop("exp", 0) < (now or time.time()):
        raise InvalidIdentity("expired identity header")
    try:
        claims["scopes"] = frozenset(claims["scopes"])
        return Identity(**claims)
    except TypeError as exc:
        raise InvalidIdentity("malformed identity claims") from exc
