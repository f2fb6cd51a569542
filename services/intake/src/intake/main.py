"""Intake API entry point: `uvicorn --factory intake.main:app` (reads INTAKE_* settings)."""

from __future__ import annotations

from fastapi import FastAPI

from intake.api import router
from intake.applications.api import router as applications_router
from intake.applications.api_more import router as around_router
from intake.applications.context import build_context
from intake.db import MIGRATIONS_DIR
from intake.hall.api import router as hall_router
from intake.settings import ApplicationOptions, IntakeSettings
from servicekit.app import create_service_app
from servicekit.db import make_engine


def create_app(database_url: str, internal_key: bytes, options: ApplicationOptions | None = None) -> FastAPI:
    service = create_service_app(
        name="intake",
        title="Intake 受理",
        description="The hall (取号叫号预约), undifferentiated intake (无差别受理), 容缺, output window.",
        engine=make_engine(database_url),
        internal_key=internal_key,
        migrations_dir=MIGRATIONS_DIR,
        routers=[router, applications_router, around_router, hall_router],
        on_shutdown=lambda: service.state.applications.datashare.close(),
    )
    service.state.applications = build_context(options or ApplicationOptions(), internal_key)
    return service


def app() -> FastAPI:
    """Factory for `uvicorn --factory intake.main:app`."""
    settings = IntakeSettings()
    return create_app(
        settings.database_url, settings.internal_token_key.get_secret_value().encode(), settings
    )
