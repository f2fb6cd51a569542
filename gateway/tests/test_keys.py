"""Signing keys rotate without breaking tokens already issued; secrets are stored only hashed."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest

from gateway.clients import ClientRegistry, check_secret, hash_secret
from gateway.demo import demo_registry
from gateway.keys import KeySet
from gateway.tokens import InvalidToken, TokenIssuer
from servicekit.identity import Identity

OPERATOR = Identity(kind="operator", client_id="operator", scopes=frozenset({"admin"}))


def test_rotation_keeps_old_tokens_valid_until_their_key_retires() -> None:
    keys = KeySet.load_or_create(None, retain_s=600)
    now = keys.current.created_at
    issuer = TokenIssuer(keys, issuer="i", audience="a", ttl_s=300, rotate_after_s=3600)
    old = issuer.issue(OPERATOR, now=now)
    old_kid = keys.current.kid
    new = issuer.issue(OPERATOR, now=now + 3600)  # a day's rotation is due: a new key signs
    assert jwt.get_unverified_header(new)["kid"] != old_kid
    assert {k["kid"] for k in keys.jwks()["keys"]} == {old_kid, keys.current.kid}
    assert issuer.verify(old).client_id == "operator"  # the retired key still verifies
    keys.rotate(now=now + 3600 + 601)
    keys.rotate(now=now + 3600 + 602)
    assert old_kid not in {k["kid"] for k in keys.jwks()["keys"]}
    with pytest.raises(InvalidToken, match="unknown signing key"):
        issuer.verify(old)


def test_keys_survive_a_restart(tmp_path: Path) -> None:
    first = KeySet.load_or_create(tmp_path, retain_s=600)
    token = TokenIssuer(first, issuer="i", audience="a", ttl_s=300).issue(OPERATOR)
    again = KeySet.load_or_create(tmp_path, retain_s=600)
    assert TokenIssuer(again, issuer="i", audience="a", ttl_s=300).verify(token).scopes == {"admin"}
    assert oct((tmp_path / f"{again.current.kid}.pem").stat().st_mode)[-3:] == "600"


def test_client_secrets_are_stored_hashed(tmp_path: Path) -> None:
    registry = demo_registry([{"code": "wc-mzj", "name": "金华市婺城区民政局", "level": "district"}])
    path = tmp_path / "clients.json"
    registry.save(path)
    text = path.read_text(encoding="utf-8")
    assert "demo-zlb-app" not in text
    assert "scrypt$" in text
    loaded = ClientRegistry.load(path)
    assert loaded.authenticate("zlb-app", "demo-zlb-app") is not None
    assert loaded.authenticate("zlb-app", "demo-zlb-ap") is None
    assert loaded.clients["dept-wc-mzj"].department == "wc-mzj"
    stored = hash_secret("s3cret")
    assert check_secret("s3cret", stored)
    assert not check_secret("s3cret", "plain")
