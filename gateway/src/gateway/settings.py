"""Gateway settings, from GATEWAY_* environment variables: where each service answers."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    catalog_url: str = "http://127.0.0.1:8101"
    intake_url: str = "http://127.0.0.1:8102"
    backoffice_url: str = "http://127.0.0.1:8103"
    notify_url: str = "http://127.0.0.1:8104"
    datashare_url: str = "http://127.0.0.1:8105"
    upstream_timeout_s: float = 10.0
    max_body_bytes: int = 10 * 1024 * 1024

    def upstream_urls(self) -> dict[str, str]:
        return {
            "catalog": self.catalog_url,
            "intake": self.intake_url,
            "backoffice": self.backoffice_url,
            "notify": self.notify_url,
            "datashare": self.datashare_url,
        }
