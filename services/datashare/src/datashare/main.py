"""Datashare API entry point: `uvicorn --factory datashare.main:app` (reads DATASHARE_* settings)."""

from __future__ import annotations

from fastapi import FastAPI

from datashare.accesslog.api import router as accesslog_router
from datashare.certificates.api import router as certificates_router
from datashare.consent.api import router as consent_router
from datashare.db import MIGRATIONS_DIR
from datashare.directory.api import router as directory_router
from datashare.evidence.api import router as evidence_router
from datashare.evidence.providers import ProviderClient
from datashare.settings import DatashareSettings
from datashare.signing import SignerHolder, key_from_setting
from servicekit.app import create_service_app
from servicekit.db import make_engine, make_sessionmaker


def create_app(database_url: str, internal_key: bytes, *, signing_key: str | None = None) -> FastAPI:
    """`signing_key`: base64 Ed25519 private key; None generates one per database (see signing.py)."""
    providers = ProviderClient()
    engine = make_engine(database_url)
    app = create_service_app(
        name="datashare",
        title="Datashare 数据共享",
        description="The data-sharing broker behind 一证通办: members, evidence catalogue, access rules, "
        "consent, evidence requests signed with Ed25519, and a hash-chained access log.",
        engine=engine,
        internal_key=internal_key,
        migrations_dir=MIGRATIONS_DIR,
        routers=[evidence_router, accesslog_router, certificates_router, consent_router, directory_router],
        on_shutdown=providers.close,
    )
    configured = key_from_setting(signing_key) if signing_key else None
    app.state.providers = providers
    app.state.signer = SignerHolder(make_sessionmaker(engine), configured)
    return app


def app() -> FastAPI:
    """Factory for `uvicorn --factory datashare.main:app`."""
    settings = DatashareSettings()
    key = settings.signing_key.get_secret_value() if settings.signing_key else None
    return create_app(
        settings.database_url, settings.internal_token_key.get_secret_value().encode(), signing_key=key
    )
