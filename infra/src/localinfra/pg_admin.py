"""Administrative SQL (create/drop database) against a PostgreSQL server, via asyncpg."""

import re
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from localinfra.asyncrun import run_sync
from localinfra.errors import InfraError

# Conservative on purpose: the name is interpolated into DDL (identifiers cannot be parameters).
_DB_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def check_db_name(name: str) -> str:
    """Return `name` if it is a safe unquoted database name, else raise InfraError."""
    if not _DB_NAME.fullmatch(name):
        raise InfraError(f"invalid database name {name!r}: use [a-z_][a-z0-9_]*, max 63 chars")
    return name


def plain_dsn(url: str) -> str:
    """`postgresql+driver://...` -> `postgresql://...`, the form asyncpg accepts."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql"))


async def _execute(admin_dsn: str, sql: str) -> str:
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        return await conn.execute(sql)
    finally:
        await conn.close()


async def _fetch_version(admin_dsn: str) -> str:
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def create_database(admin_dsn: str, name: str, timeout: float = 30) -> None:
    """CREATE DATABASE `name` on the server behind `admin_dsn`."""
    sql = f'CREATE DATABASE "{check_db_name(name)}"'
    run_sync(lambda: _execute(plain_dsn(admin_dsn), sql), timeout)


def drop_database(admin_dsn: str, name: str, timeout: float = 30) -> None:
    """DROP DATABASE `name`, disconnecting any session still using it."""
    sql = f'DROP DATABASE IF EXISTS "{check_db_name(name)}" WITH (FORCE)'
    run_sync(lambda: _execute(plain_dsn(admin_dsn), sql), timeout)


def server_version(admin_dsn: str, timeout: float = 15) -> str:
    """The server's `server_version` setting, e.g. '15.18 (Debian 15.18-0+deb12u1)'."""
    return run_sync(lambda: _fetch_version(plain_dsn(admin_dsn)), timeout)
