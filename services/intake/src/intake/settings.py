"""Intake settings, from INTAKE_* environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.settings import ServiceSettings


class ApplicationOptions(BaseSettings):
    """What the application use cases need beyond a database; every one has a working default."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    datashare_url: str | None = Field(
        default=None,
        description="Datashare's API, e.g. http://127.0.0.1:8005, for 材料预审 (一证通办); unset: every "
        "material datashare could supply is reported as 'bring it'",
    )
    datashare_timeout_s: float = Field(default=3.0, gt=0, le=30)
    files_dir: str | None = Field(
        default=None, description="Keep uploaded files here (content-addressed) instead of in the database"
    )
    max_file_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    precheck_valid_hours: int = Field(default=72, ge=1, description="How long a submission may cite a 预审")
    rongque_working_days: int = Field(default=5, ge=1, le=30, description="容缺: default time to supply")
    pickup_place: str = "婺城区行政服务中心一楼统一出件窗口"
    pickup_max_attempts: int = Field(default=5, ge=1, description="Wrong pickup codes before the code locks")
    courier_name: str = Field(
        default="政务寄递", description="Shown to the applicant with the tracking number"
    )
    sweep_interval_s: float = Field(default=300.0, gt=0, description="容缺 deadline sweep of the worker")
    item_cache_s: float = Field(
        default=5.0, ge=0, description="How long a process reuses an item's versions it read (0: never)"
    )


class IntakeSettings(ServiceSettings, ApplicationOptions):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")
