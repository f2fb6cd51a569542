"""Backoffice settings, from BACKOFFICE_* environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class BackofficeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BACKOFFICE_", extra="ignore")

    warn_working_days: int = Field(default=2, ge=0, description="预警: this many working days ahead")
    sweep_interval_s: float = Field(default=300.0, gt=0, description="How often the worker sweeps")
