"""Registered API clients (OAuth2 client credentials); secrets are kept only as scrypt hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from servicekit.identity import Kind

_N, _R, _P = 2**14, 8, 1


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def check_secret(secret: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = hash_secret(secret, base64.b64decode(salt)).split("$")[2]
    return hmac.compare_digest(expected, digest)


@dataclass(frozen=True)
class Client:
    client_id: str
    secret_hash: str
    kind: Kind
    name: str
    scopes: frozenset[str]
    department: str | None = None
    window: str | None = None
    role: str | None = None
    citizen_id: str | None = None  # a demo citizen client speaks for one fixed citizen
    citizen_name: str | None = None
    may_assert_citizens: bool = False  # the provincial app exchanges SSO assertions for tokens
    rate_per_s: float = 50.0


@dataclass
class ClientRegistry:
    clients: dict[str, Client] = field(default_factory=dict)

    def add(self, client: Client) -> None:
        self.clients[client.client_id] = client

    def authenticate(self, client_id: str, secret: str) -> Client | None:
        client = self.clients.get(client_id)
        # Hash even for an unknown id so timing does not reveal which ids exist.
        stored = client.secret_hash if client else hash_secret("unknown", b"0" * 16)
        ok = check_secret(secret, stored)
        return client if client is not None and ok else None

    def save(self, path: Path) -> None:
        rows = []
        for client in self.clients.values():
            row = asdict(client)
            row["scopes"] = sorted(client.scopes)
            rows.append(row)
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> ClientRegistry:
        registry = cls()
        for row in json.loads(path.read_text(encoding="utf-8")):
            row["scopes"] = frozenset(row["scopes"])
            registry.add(Client(**row))
        return registry
