"""Settings every service reads from its environment (prefix per service, e.g. CATALOG_DATABASE_URL)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Subclasses set `model_config = SettingsConfigDict(env_prefix="<SERVICE>_")`."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str = Field(
        description="SQLAlchemy async URL: postgresql+asyncpg://… or sqlite+aiosqlite:///…"
    )
    kafka_bootstrap_servers: str | None = Field(
        default=None, description="host:port list; unset only in the embedded mode (in-process bus)"
    )
    internal_token_key: SecretStr = Field(
        description="Shared secret of the gateway's signed identity header (servicekit.identity)"
    )
    log_level: str = "INFO"
    relay_batch_size: int = 500
    consumer_batch_size: int = 200
