"""Datashare settings, from DATASHARE_* environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class DatashareSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DATASHARE_", extra="ignore")

    signing_key: SecretStr | None = Field(
        default=None,
        description="Base64 of the 32-byte Ed25519 private key that signs evidence. Unset: a key is "
        "generated on first use and kept in the database (fine for the embedded mode and "
        "development; production sets it from a secret store so the key never sits in the database)",
    )
    expiry_sweep_s: float = Field(default=3600.0, description="How often the worker expires certificates")
