"""Datashare settings, from DATASHARE_* environment variables."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class DatashareSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DATASHARE_", extra="ignore")
