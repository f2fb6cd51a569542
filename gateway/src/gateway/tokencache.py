"""Tokens already verified, with the internal identity header signed for each: the hot path's cache.

Verifying an EdDSA JWT costs about 180 µs of CPU (PyJWT's Python checks more than the Ed25519
maths), and an app client sends the same token for its whole 15-minute life. The verdict is a pure
function of the token's bytes, so it is kept, keyed by the token string, until the token's `exp`
(bounded LRU). Each use re-checks what can change after the first verification: expiry, the
signing key's retirement (rotation) and revocation.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from gateway.tokens import InvalidToken, TokenIssuer, VerifiedToken
from servicekit.identity import TTL_S, Identity, sign


class CachedToken:
    __slots__ = ("header", "header_until", "identity", "verified")

    def __init__(self, verified: VerifiedToken) -> None:
        self.verified = verified
        self.identity: Identity = verified.identity
        self.header = b""
        self.header_until = 0.0


class TokenCache:
    """Bounded LRU of verified tokens; `header_reuse_s` keeps a signed header at least half valid."""

    def __init__(
        self,
        issuer: TokenIssuer,
        internal_key: bytes,
        max_entries: int = 10_000,
        header_reuse_s: float = TTL_S / 2,
    ) -> None:
        self.issuer = issuer
        self.internal_key = internal_key
        self.max_entries = max_entries
        self.header_reuse_s = header_reuse_s
        self._entries: OrderedDict[str, CachedToken] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def verify(self, token: str, now: float | None = None) -> CachedToken:
        """The token's cached verdict; InvalidToken (and the entry dropped) once it no longer holds."""
        now = time.time() if now is None else now
        entries = self._entries
        entry = entries.get(token)
        if entry is None:
            entry = CachedToken(self.issuer.verify_token(token))
            entries[token] = entry
            if len(entries) > self.max_entries:
                entries.popitem(last=False)
        else:
            entries.move_to_end(token)
        verified = entry.verified
        reason = (
            "token expired"
            if now >= verified.expires_at
            else "unknown signing key"
            if self.issuer.keys.get(verified.kid) is None
            else "token revoked"
            if self.issuer.is_revoked(verified.jti)
            else None
        )
        if reason is not None:
            del entries[token]
            raise InvalidToken(reason)
        return entry

    def identity_header(self, entry: CachedToken, now: float | None = None) -> bytes:
        """The signed `x-zuiduo-identity` value, re-signed once half its validity has passed."""
        now = time.time() if now is None else now
        if now >= entry.header_until:
            entry.header = sign(entry.identity, self.internal_key, now).encode()
            entry.header_until = now + self.header_reuse_s
        return entry.header
