"""What the gateway needs to know who is calling: token issuer, client registry, keys, the SSO."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.citizens import DemoSso, SsoTrust
from gateway.clients import ClientRegistry
from gateway.keys import KeySet
from gateway.settings import GatewaySettings
from gateway.tokens import TokenIssuer


@dataclass
class Security:
    issuer: TokenIssuer
    registry: ClientRegistry
    internal_key: bytes
    sso: SsoTrust | None = None
    demo_sso: DemoSso | None = None  # embedded mode only: signs assertions for any citizen


def security_from(settings: GatewaySettings) -> Security:
    keys = KeySet.load_or_create(settings.keys_dir, retain_s=settings.token_ttl_s * 2)
    sso = None
    if settings.sso_issuer and settings.sso_public_key:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(settings.sso_public_key))
        sso = SsoTrust(settings.sso_issuer, public)
    return Security(
        issuer=TokenIssuer(keys, issuer=settings.issuer, audience="zuiduo-api", ttl_s=settings.token_ttl_s),
        registry=ClientRegistry.load(settings.clients_file),
        internal_key=settings.internal_token_key.get_secret_value().encode(),
        sso=sso,
    )
