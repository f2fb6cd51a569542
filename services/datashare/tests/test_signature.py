"""The signed answer, checked the way a consumer would: `cryptography` directly and the published JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .support import OPS, WANG, ask, datashare, department

MZJ = department("wc-mzj")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _digest(value: Any) -> str:
    """SHA-256 of canonical JSON, written out here rather than imported from datashare."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check(answer: dict[str, Any], jwks: dict[str, Any]) -> dict[str, Any]:
    """Verify like an independent consumer; returns the signed claims or raises."""
    header_b64, payload_b64, signature_b64 = answer["signature"].split(".")
    header = json.loads(_unb64(header_b64))
    assert header["alg"] == "EdDSA"
    jwk = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519")
    public = Ed25519PublicKey.from_public_bytes(_unb64(jwk["x"]))
    public.verify(_unb64(signature_b64), f"{header_b64}.{payload_b64}".encode())
    claims: dict[str, Any] = json.loads(_unb64(payload_b64))
    assert claims["request_hash"] == _digest(answer["request"]), "the answer is bound to another request"
    assert claims["response_hash"] == _digest(answer["evidence"]), "the evidence was altered"
    assert (claims["log_seq"], claims["log_hash"]) == (answer["log"]["seq"], answer["log"]["hash"])
    return claims


async def test_signature_verifies_with_the_published_key_and_binds_request_and_evidence(db_url: str) -> None:
    async with datashare(db_url) as ds:
        await ds.entitle("wc-mzj", "hukou")
        answer = (await ds.client.post("/evidence-requests", json=ask("hukou"), headers=MZJ)).json()
        jwks = (await ds.client.get("/keys", headers=MZJ)).json()
        assert jwks["current_kid"] == answer["key_id"]
        claims = check(answer, jwks)
        assert claims["jti"] == answer["id"]
        forged = {**answer, "evidence": {**answer["evidence"], "holder_name": "李四"}}
        with pytest.raises(AssertionError, match="the evidence was altered"):
            check(forged, jwks)
        head, payload, signature = answer["signature"].split(".")
        flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
        with pytest.raises(InvalidSignature):
            check({**answer, "signature": f"{head}.{flipped}.{signature}"}, jwks)
        # The same request asked twice gets two answers, each bound to its own log entry.
        again = (await ds.client.post("/evidence-requests", json=ask("hukou"), headers=MZJ)).json()
        assert check(again, jwks)["log_seq"] == claims["log_seq"] + 1
        assert again["request_hash"] != answer["request_hash"]
        assert answer["request"]["subject_id"] == WANG


async def test_the_generated_key_persists_per_database_and_a_configured_key_is_published(db_url: str) -> None:
    async with datashare(db_url) as first:
        kid = (await first.client.get("/keys", headers=MZJ)).json()["current_kid"]
        assert (await first.client.get("/keys")).status_code == 401
    async with datashare(db_url, seed=False) as second:
        assert (await second.client.get("/keys", headers=MZJ)).json()["current_kid"] == kid
    configured = Ed25519PrivateKey.generate()
    raw = configured.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    async with datashare(db_url, signing_key=base64.b64encode(raw).decode(), seed=False) as third:
        await third.entitle("wc-mzj", "hukou")
        jwks = (await third.client.get("/keys", headers=MZJ)).json()
        assert jwks["current_kid"] != kid
        assert {k["kid"] for k in jwks["keys"]} == {kid, jwks["current_kid"]}, "the old key stays published"
        answer = (await third.client.post("/evidence-requests", json=ask("hukou"), headers=MZJ)).json()
        check(answer, jwks)
        public = configured.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        current = next(k for k in jwks["keys"] if k["kid"] == answer["key_id"])
        assert _unb64(current["x"]) == public
        report = (await third.client.get("/access-log/verify", headers=OPS)).json()
        head_b64, payload_b64, sig_b64 = report["head_signature"].split(".")
        Ed25519PublicKey.from_public_bytes(public).verify(
            _unb64(sig_b64), f"{head_b64}.{payload_b64}".encode()
        )
        assert json.loads(_unb64(payload_b64))["head_seq"] == report["head_seq"] == 1
