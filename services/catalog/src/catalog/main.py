"""Catalog API entry point: `uvicorn catalog.main:app` (reads CATALOG_* settings)."""

from __future__ import annotations

from fastapi import FastAPI

from catalog.api import router
from catalog.db import MIGRATIONS_DIR
from catalog.search.api import router as search_router
from catalog.settings import CatalogSettings
from servicekit.app import create_service_app
from servicekit.db import make_engine


def create_app(database_url: str, internal_key: bytes) -> FastAPI:
    return create_service_app(
        name="catalog",
        title="Catalog 事项目录",
        description="The standardised item catalogue of Wucheng district (八统一) and its search.",
        engine=make_engine(database_url),
        internal_key=internal_key,
        migrations_dir=MIGRATIONS_DIR,
        routers=[router, search_router],
    )


def app() -> FastAPI:
    """Factory for `uvicorn --factory catalog.main:app`."""
    settings = CatalogSettings()
    return create_app(settings.database_url, settings.internal_token_key.get_secret_value().encode())
