"""The gateway's token signing keys (Ed25519): the current one signs, older ones still verify.

Rotation: `rotate()` makes a new current key; the previous keys stay in the JWKS until every token
they signed has expired, so clients that cache the JWKS never see a valid token they cannot check.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: Ed25519PrivateKey
    created_at: float

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def jwk(self) -> dict[str, str]:
        raw = self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw), "kid": self.kid, "alg": "EdDSA", "use": "sig"}


def new_key(now: float | None = None) -> SigningKey:
    created = now or time.time()
    return SigningKey(kid=f"k{int(created)}", private=Ed25519PrivateKey.generate(), created_at=created)


class KeySet:
    def __init__(self, keys: list[SigningKey], retain_s: float) -> None:
        assert keys, "at least one key"
        self._keys = sorted(keys, key=lambda k: k.created_at)
        self._by_kid = {k.kid: k for k in self._keys}  # looked up on every request (token cache)
        self._retain_s = retain_s

    @property
    def current(self) -> SigningKey:
        return self._keys[-1]

    def get(self, kid: str) -> SigningKey | None:
        return self._by_kid.get(kid)

    def rotate(self, now: float | None = None) -> SigningKey:
        now = now or time.time()
        key = new_key(now)
        if key.kid == self.current.kid:
            key = SigningKey(kid=key.kid + "b", private=key.private, created_at=now)
        # A retired key verifies for one token lifetime after it stopped signing, then goes.
        retired_before = now - self._retain_s
        self._keys = [k for k in self._keys if k.created_at >= retired_before or k is self.current]
        self._keys.append(key)
        self._by_kid = {k.kid: k for k in self._keys}
        return key

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.jwk() for k in reversed(self._keys)]}

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for key in self._keys:
            pem = key.private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            path = directory / f"{key.kid}.pem"
            path.write_bytes(pem)
            path.chmod(0o600)
        index = [{"kid": k.kid, "created_at": k.created_at} for k in self._keys]
        (directory / "keys.json").write_text(json.dumps(index), encoding="utf-8")

    @classmethod
    def load_or_create(cls, directory: Path | None, retain_s: float) -> KeySet:
        """Keys from `directory` (written by `save`), or one new key when there are none."""
        if directory is None or not (directory / "keys.json").exists():
            keyset = cls([new_key()], retain_s)
            if directory is not None:
                keyset.save(directory)
            return keyset
        keys = []
        for entry in json.loads((directory / "keys.json").read_text(encoding="utf-8")):
            private = serialization.load_pem_private_key(
                (directory / f"{entry['kid']}.pem").read_bytes(), None
            )
            assert isinstance(private, Ed25519PrivateKey)
            keys.append(SigningKey(entry["kid"], private, entry["created_at"]))
        return cls(keys, retain_s)
