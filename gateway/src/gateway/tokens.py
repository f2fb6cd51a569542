"""Short-lived access tokens: EdDSA JWTs carrying the caller's identity and scopes (RFC 9068 style)."""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from gateway.keys import KeySet
from servicekit.identity import Identity

ALGORITHM = "EdDSA"


class InvalidToken(Exception):
    pass


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """A token's identity and what decides how long that verdict may be reused (see tokencache)."""

    identity: Identity
    expires_at: float  # the `exp` claim
    kid: str  # the key that signed it: once retired, the token is no longer accepted
    jti: str


class TokenIssuer:
    def __init__(
        self, keys: KeySet, *, issuer: str, audience: str, ttl_s: int, rotate_after_s: float = 24 * 3600
    ) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.ttl_s = ttl_s
        self.rotate_after_s = rotate_after_s
        self._revoked: dict[str, float] = {}  # jti -> the token's exp (after which it is moot)

    def issue(self, identity: Identity, now: float | None = None) -> str:
        now = now or time.time()
        if now - self.keys.current.created_at >= self.rotate_after_s:
            self.keys.rotate(now)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": _subject(identity),
            "client_id": identity.client_id,
            "iat": int(now),
            "exp": int(now) + self.ttl_s,
            "jti": uuid.uuid4().hex,
            "scope": " ".join(sorted(identity.scopes)),
            "kind": identity.kind,
        }
        optional = {
            "dept": identity.department,
            "win": identity.window,
            "role": identity.role,
            "cid": identity.citizen_id,
            "cname": identity.citizen_name,
        }
        claims.update({k: v for k, v in optional.items() if v is not None})
        key = self.keys.current
        return jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid})

    def verify(self, token: str) -> Identity:
        """The identity a token carries; InvalidToken names why it is refused."""
        return self.verify_token(token).identity

    def revoke(self, jti: str, expires_at: float, now: float | None = None) -> None:
        """Refuse this token from now on (RFC 7009); entries go once the token would have expired."""
        now = now or time.time()
        self._revoked = {j: exp for j, exp in self._revoked.items() if exp > now}
        self._revoked[jti] = expires_at

    def is_revoked(self, jti: str) -> bool:
        return jti in self._revoked

    def verify_token(self, token: str) -> VerifiedToken:
        """`verify`, with the claims a cache needs to know when the verdict stops holding."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        # Only our algorithm: a token saying alg "none" or HS256 is refused before any check.
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"algorithm {header.get('alg')!r} not accepted")
        key = self.keys.get(str(header.get("kid")))
        if key is None:
            raise InvalidToken("unknown signing key")
        try:
            claims = jwt.decode(
                token,
                key.public,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"invalid token: {type(exc).__name__}") from exc
        jti = str(claims.get("jti", ""))
        if jti in self._revoked:
            raise InvalidToken("token revoked")
        identity = Identity(
            kind=claims["kind"],
            client_id=claims["client_id"],
            scopes=frozenset(claims.get("scope", "").split()),
            department=claims.get("dept"),
            window=claims.get("win"),
            role=claims.get("role"),
            citizen_id=claims.get("cid"),
            citizen_name=claims.get("cname"),
        )
        return VerifiedToken(identity, float(claims["exp"]), key.kid, jti)


def _subject(identity: Identity) -> str:
    """A citizen's token names them by a pseudonym; the ID number travels only in `cid`."""
    if identity.kind == "citizen" and identity.citizen_id:
        return "citizen:" + hashlib.sha256(identity.citizen_id.encode()).hexdigest()[:24]
    return identity.client_id
