"""Backoffice API entry point: `uvicorn --factory backoffice.main:app` (reads BACKOFFICE_* settings)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI

from backoffice.api import router
from backoffice.db import MIGRATIONS_DIR
from backoffice.deadlines import utc_now
from backoffice.settings import BackofficeSettings
from backoffice.supervision_api import router as supervision_router
from servicekit.app import create_service_app
from servicekit.db import make_engine


def create_app(
    database_url: str,
    internal_key: bytes,
    *,
    clock: Callable[[], datetime] = utc_now,
    warn_working_days: int = 2,
) -> FastAPI:
    """`clock` gives every use case its time: tests pass a fixed one and never read the wall clock."""
    app = create_service_app(
        name="backoffice",
        title="Back office 后台办理",
        description="Department task lists, working-day deadlines, decisions and supervision (督查).",
        engine=make_engine(database_url),
        internal_key=internal_key,
        migrations_dir=MIGRATIONS_DIR,
        routers=[router, supervision_router],
    )
    app.state.clock = clock
    app.state.warn_working_days = warn_working_days
    return app


def app() -> FastAPI:
    """Factory for `uvicorn --factory backoffice.main:app`."""
    settings = BackofficeSettings()
    return create_app(
        settings.database_url,
        settings.internal_token_key.get_secret_value().encode(),
        warn_working_days=settings.warn_working_days,
    )
