"""Evidence signatures: canonical JSON, SHA-256 bindings, Ed25519 keys and their JWKS (see README)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from datashare.models import SigningKey

_RAW = serialization.Encoding.Raw


def canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sha256_hex(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _public_raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)


def jwk(public_key: bytes, kid: str) -> dict[str, str]:
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(public_key), "kid": kid, "use": "sig", "alg": "EdDSA"}


def thumbprint(public_key: bytes) -> str:
    """RFC 7638 JWK thumbprint: the key id, computable by anyone holding the public key."""
    members = {"crv": "Ed25519", "kty": "OKP", "x": b64url(public_key)}
    return b64url(hashlib.sha256(canonical(members)).digest())


class Signer:
    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public_key = _public_raw(key)
        self.kid = thumbprint(self.public_key)
        self._header = b64url(canonical({"alg": "EdDSA", "kid": self.kid, "typ": "evidence+jwt"}))

    def sign(self, payload: dict[str, Any]) -> str:
        signing_input = f"{self._header}.{b64url(canonical(payload))}"
        return f"{signing_input}.{b64url(self._key.sign(signing_input.encode()))}"


def key_from_setting(value: str) -> Ed25519PrivateKey:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
        return Ed25519PrivateKey.from_private_bytes(raw)
    except ValueError as exc:
        raise ValueError("DATASHARE_SIGNING_KEY must be base64 of a 32-byte Ed25519 private key") from exc


async def _insert_ignoring_duplicates(session: AsyncSession, values: dict[str, Any]) -> None:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    await session.execute(insert(SigningKey).values(**values).on_conflict_do_nothing())


async def load_signer(session: AsyncSession, configured: Ed25519PrivateKey | None) -> Signer:
    """The configured key (its public half registered), else the database's generated one."""
    now = datetime.now(UTC)
    async with session.begin():
        if configured is not None:
            signer = Signer(configured)
            values = {"kid": signer.kid, "public_key": signer.public_key, "origin": "settings"}
            await _insert_ignoring_duplicates(session, {**values, "created_at": now})
            return signer
        fresh = Ed25519PrivateKey.generate()
        private = fresh.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())
        public = _public_raw(fresh)
        # Two replicas starting together both try; the unique slot keeps exactly one key.
        await _insert_ignoring_duplicates(
            session,
            {
                "kid": thumbprint(public),
                "public_key": public,
                "private_key": private,
                "slot": "generated",
                "origin": "generated",
                "created_at": now,
            },
        )
        stored = await session.scalar(sa.select(SigningKey.private_key).where(SigningKey.slot == "generated"))
    assert stored is not None
    return Signer(Ed25519PrivateKey.from_private_bytes(stored))


class SignerHolder:
    """Loads the signer once per process, on first use (the database must be migrated by then)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], configured: Ed25519PrivateKey | None
    ) -> None:
        self._sessions = sessions
        self._configured = configured
        self._signer: Signer | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Signer:
        if self._signer is None:
            async with self._lock:
                if self._signer is None:
                    async with self._sessions() as session:
                        self._signer = await load_signer(session, self._configured)
        return self._signer


async def published_keys(session: AsyncSession) -> list[dict[str, str]]:
    query = sa.select(SigningKey.kid, SigningKey.public_key).order_by(SigningKey.created_at)
    rows = (await session.execute(query)).all()
    return [jwk(row.public_key, row.kid) for row in rows]
