"""Notify API entry point: `uvicorn --factory notify.main:app` (reads NOTIFY_* settings)."""

from __future__ import annotations

from fastapi import FastAPI

from notify.api import router
from notify.callbacks import router as callbacks_router
from notify.clock import Clock, utc_now
from notify.db import MIGRATIONS_DIR
from notify.lifecycle import RetryPolicy
from notify.settings import NotifySettings
from servicekit.app import create_service_app
from servicekit.db import make_engine


def create_app(
    database_url: str, internal_key: bytes, *, clock: Clock = utc_now, max_attempts: int = 5
) -> FastAPI:
    app = create_service_app(
        name="notify",
        title="Notify 消息通知",
        description="SMS, email, app push and inbox messages, tracked to delivery.",
        engine=make_engine(database_url),
        internal_key=internal_key,
        migrations_dir=MIGRATIONS_DIR,
        routers=[router, callbacks_router],
    )
    app.state.clock = clock
    app.state.retry_policy = RetryPolicy(attempts=max_attempts)
    return app


def app() -> FastAPI:
    """Factory for `uvicorn --factory notify.main:app`."""
    settings = NotifySettings()
    return create_app(
        settings.database_url,
        settings.internal_token_key.get_secret_value().encode(),
        max_attempts=settings.max_attempts,
    )
