"""Backoffice API entry point: `uvicorn --factory backoffice.main:app` (reads BACKOFFICE_* settings)."""

from __future__ import annotations

from fastapi import FastAPI

from backoffice.api import router
from backoffice.db import MIGRATIONS_DIR
from backoffice.settings import BackofficeSettings
from servicekit.app import create_service_app
from servicekit.db import make_engine


def create_app(database_url: str, internal_key: bytes) -> FastAPI:
    return create_service_app(
        name="backoffice",
        title="Back office 后台办理",
        description="Department task lists, working-day deadlines, decisions and supervision (督查).",
        engine=make_engine(database_url),
        internal_key=internal_key,
        migrations_dir=MIGRATIONS_DIR,
        routers=[router],
    )


def app() -> FastAPI:
    """Factory for `uvicorn --factory backoffice.main:app`."""
    settings = BackofficeSettings()
    return create_app(settings.database_url, settings.internal_token_key.get_secret_value().encode())
