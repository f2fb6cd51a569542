"""Gateway settings, from GATEWAY_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    catalog_url: str = "http://127.0.0.1:8101"
    intake_url: str = "http://127.0.0.1:8102"
    backoffice_url: str = "http://127.0.0.1:8103"
    notify_url: str = "http://127.0.0.1:8104"
    datashare_url: str = "http://127.0.0.1:8105"
    upstream_timeout_s: float = 10.0
    upstream_timeouts_s: dict[str, float] = Field(
        default_factory=dict, description='Per service, overriding upstream_timeout_s: {"datashare": 20}'
    )
    max_body_bytes: int = 10 * 1024 * 1024
    internal_token_key: SecretStr = Field(description="Shared with the services: signs the identity header")
    clients_file: Path = Field(description="JSON list of clients with scrypt-hashed secrets")
    keys_dir: Path | None = Field(default=None, description="Ed25519 signing keys; new ones when empty")
    token_ttl_s: int = 900
    issuer: str = "https://gateway.wucheng.zuiduo.local"
    sso_issuer: str | None = Field(default=None, description="Issuer of the provincial SSO assertions")
    sso_public_key: str | None = Field(default=None, description="The SSO's Ed25519 public key, base64 raw")
    rate_factor: float = Field(
        default=1.0,
        gt=0,
        validation_alias=AliasChoices("GATEWAY_RATE_FACTOR", "RATE_LIMIT_FACTOR"),
        description="Scales every route's rate limit (load tests and fuzzers raise it)",
    )
    redis_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("GATEWAY_REDIS_URL", "REDIS_URL"),
        description="Shared rate-limit buckets for all gateway instances; unset: in this process only",
    )
    redis_timeout_s: float = Field(
        default=0.25, gt=0, description="Per Redis call; after a failure, limits are local for a while"
    )
    token_cache_size: int = Field(default=10_000, ge=1, description="Verified tokens kept (LRU)")
    log_level: str = "INFO"

    def upstream_urls(self) -> dict[str, str]:
        return {
            "catalog": self.catalog_url,
            "intake": self.intake_url,
            "backoffice": self.backoffice_url,
            "notify": self.notify_url,
            "datashare": self.datashare_url,
        }
