"""Citizen identity: the provincial SSO's signed assertion, exchanged by the app for a token.

The app logs the citizen in with the provincial SSO (浙里办 style), receives a short-lived JWT
assertion signed by the SSO (sub = resident ID number, name), and exchanges it at the token
endpoint (RFC 7523 jwt-bearer grant). A real SSO replaces the demo one by publishing its keys.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from govcodes.idnumber import InvalidIdNumber, validate_id_number

AUDIENCE = "zuiduo-gateway"
MAX_LIFETIME_S = 300


class InvalidAssertion(Exception):
    pass


@dataclass(frozen=True)
class CitizenClaims:
    id_number: str
    name: str


@dataclass(frozen=True)
class SsoTrust:
    """The SSO we trust: its issuer name and public key."""

    issuer: str
    public_key: Ed25519PublicKey

    def verify(self, assertion: str) -> CitizenClaims:
        try:
            claims = jwt.decode(
                assertion,
                self.public_key,
                algorithms=["EdDSA"],
                audience=AUDIENCE,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "name"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidAssertion(f"assertion refused: {type(exc).__name__}") from exc
        if claims["exp"] - claims["iat"] > MAX_LIFETIME_S:
            raise InvalidAssertion("assertion lives too long")
        try:
            return CitizenClaims(validate_id_number(str(claims["sub"])), str(claims["name"]))
        except InvalidIdNumber as exc:
            raise InvalidAssertion(str(exc)) from exc


@dataclass(frozen=True)
class DemoSso:
    """A stand-in provincial SSO for the embedded mode and tests; never enabled in production."""

    issuer: str
    private_key: Ed25519PrivateKey

    @classmethod
    def create(cls, issuer: str = "https://sso.demo.zjzwfw.local") -> DemoSso:
        return cls(issuer, Ed25519PrivateKey.generate())

    @property
    def trust(self) -> SsoTrust:
        return SsoTrust(self.issuer, self.private_key.public_key())

    def assertion(self, id_number: str, name: str, now: float | None = None) -> str:
        now = now or time.time()
        claims = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": id_number,
            "name": name,
            "iat": int(now),
            "exp": int(now) + 120,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.private_key, algorithm="EdDSA")
