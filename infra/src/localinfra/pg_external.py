"""An already running PostgreSQL server given by DATABASE_URL (CI services, a developer's own)."""

import os
from urllib.parse import urlsplit, urlunsplit

from localinfra import pg_admin
from localinfra.errors import InfraError


class ExternalPostgres:
    """Same url()/create_database() API as PostgresCluster, for a server localinfra does not run.

    `url` must point at an administrative database, e.g. postgresql://app:pw@db:5432/postgres,
    with a role allowed to CREATE DATABASE. start() and stop() do nothing on purpose (the server
    belongs to someone else); restart() and kill() raise, because a fault test cannot be run
    against it and must not pass by pretending.
    """

    managed = False

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if not parts.scheme.startswith("postgres"):
            raise InfraError(f"DATABASE_URL must be a postgresql:// URL, got scheme {parts.scheme!r}")
        if not parts.hostname:
            raise InfraError("DATABASE_URL has no host")
        self._parts = parts
        self.port = parts.port or 5432
        self.admin_url = urlunsplit(parts._replace(scheme="postgresql"))

    @classmethod
    def from_env(cls) -> "ExternalPostgres | None":
        """An ExternalPostgres for $DATABASE_URL, or None when it is unset or empty."""
        url = os.environ.get("DATABASE_URL", "").strip()
        return cls(url) if url else None

    def __repr__(self) -> str:
        return f"ExternalPostgres(host={self._parts.hostname!r}, port={self.port})"

    def url(self, dbname: str, driver: str = "postgresql+asyncpg") -> str:
        """URL of database `dbname` on this server (credentials and query kept)."""
        return urlunsplit(self._parts._replace(scheme=driver, path=f"/{dbname}"))

    def create_database(self, name: str) -> str:
        """Create database `name` and return its SQLAlchemy async URL."""
        pg_admin.create_database(self.admin_url, name)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop database `name` (tests clean up after themselves on a shared server)."""
        pg_admin.drop_database(self.admin_url, name)

    def start(self) -> None:
        """No-op: the external server is already running and is not ours to start."""

    def stop(self) -> None:
        """No-op: the external server is not ours to stop."""

    def close(self) -> None:
        """No-op, for symmetry with PostgresCluster.close()."""

    def restart(self) -> None:
        """Not possible on an external server."""
        raise InfraError("cannot restart an external PostgreSQL (DATABASE_URL is set)")

    def kill(self) -> None:
        """Not possible on an external server."""
        raise InfraError("cannot kill an external PostgreSQL (DATABASE_URL is set)")
