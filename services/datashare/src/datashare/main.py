"""Datashare API entry point: `uvicorn --factory datashare.main:app` (reads DATASHARE_* settings)."""

from __future__ import annotations

from fastapi import FastAPI

from datashare.api import router
from datashare.db import MIGRATIONS_DIR
from datashare.settings import DatashareSettings
from servicekit.app import create_service_app
from servicekit.db import make_engine


def create_app(database_url: str, internal_key: bytes) -> FastAPI:
    return create_service_app(
        name="datashare",
        title="Datashare 数据共享",
        description="The data-sharing broker behind 一证通办: certificates, access rules, signed log.",
        engine=make_engine(database_url),
        internal_key=internal_key,
        migrations_dir=MIGRATIONS_DIR,
        routers=[router],
    )


def app() -> FastAPI:
    """Factory for `uvicorn --factory datashare.main:app`."""
    settings = DatashareSettings()
    return create_app(settings.database_url, settings.internal_token_key.get_secret_value().encode())
