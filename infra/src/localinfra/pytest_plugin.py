"""pytest fixtures that run real Kafka, PostgreSQL and Redis for the test session, started on first use."""

import logging
import os
import time
import uuid
from collections.abc import Iterator

import pytest

from localinfra.kafka import KafkaBroker, kafka_version, pinned_kafka_version, start_kafka
from localinfra.kafka_jars import DEFAULT_LIBS
from localinfra.pg_external import ExternalPostgres
from localinfra.postgres import PostgresCluster, find_postgres_bindir, postgres_version, start_postgres
from localinfra.redis_server import RedisServer, redis_version, start_redis

log = logging.getLogger("localinfra")

# Where a Docker engine answers (`docker info` exits 0) these fixtures could use testcontainers
# instead. They deliberately do not: testcontainers is not a dependency, CI machines have no
# Docker, and one code path (local processes) keeps local and CI runs identical.


def _announce(config: pytest.Config, message: str) -> None:
    # Terminal line so it is visible even with -q; log record so it lands in the test's log.
    # Output capture is active during fixture setup, so it is suspended for the terminal line.
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(message)
    elif reporter is not None:
        reporter.write_line(message)
    log.warning(message)


def _kafka_header() -> str:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        return f"kafka: external broker at {external} (KAFKA_BOOTSTRAP_SERVERS)"
    try:
        return f"kafka: Apache Kafka {kafka_version(DEFAULT_LIBS)} (local process, started on use)"
    except Exception:  # jars not fetched yet; the header must never fail the run
        return f"kafka: Apache Kafka {pinned_kafka_version()} (jars fetched by Maven on first use)"


def _postgres_header() -> str:
    external = ExternalPostgres.from_env()
    if external is not None:
        return f"postgres: external server {external!r} (DATABASE_URL)"
    bindir = find_postgres_bindir()
    if bindir is None:
        return "postgres: not installed (installed with apt-get on first use when root)"
    try:
        return f"postgres: {postgres_version(bindir)} from {bindir} (local cluster, started on use)"
    except Exception as exc:  # the header must never fail the run
        return f"postgres: {bindir} ({exc})"


def _redis_header() -> str:
    external = os.environ.get("REDIS_URL")
    if external:
        return "redis: external server (REDIS_URL)"
    try:
        return f"redis: {redis_version()} (local process, started on use)"
    except Exception as exc:  # the header must never fail the run
        return f"redis: {exc}"


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say which Kafka, PostgreSQL and Redis versions this run will use (nothing is started here)."""
    return [_kafka_header(), _postgres_header(), _redis_header()]


@pytest.fixture(scope="session")
def kafka_broker(pytestconfig: pytest.Config) -> Iterator[KafkaBroker | None]:
    """A local broker for the session, or None when KAFKA_BOOTSTRAP_SERVERS names an external one.

    Tests that restart or kill the broker need the object; tests that only talk to Kafka should
    ask for `kafka_bootstrap`, which works in both cases.
    """
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield None
        return
    started = time.monotonic()
    broker = start_kafka()
    _announce(
        pytestconfig,
        f"localinfra: Apache Kafka {broker.version} running at {broker.bootstrap} "
        f"(ready in {time.monotonic() - started:.1f} s, log {broker.log_path})",
    )
    try:
        yield broker
    finally:
        broker.close()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: KafkaBroker | None) -> str:
    """bootstrap.servers for clients: $KAFKA_BOOTSTRAP_SERVERS or the local broker's address."""
    if kafka_broker is None:
        return os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    return kafka_broker.bootstrap


@pytest.fixture(scope="session")
def pg_cluster(pytestconfig: pytest.Config) -> Iterator[PostgresCluster | ExternalPostgres]:
    """The session's PostgreSQL: $DATABASE_URL's server, else a private local cluster."""
    external = ExternalPostgres.from_env()
    if external is not None:
        yield external
        return
    started = time.monotonic()
    cluster = start_postgres()
    _announce(
        pytestconfig,
        f"localinfra: {postgres_version(cluster.bindir)} running on 127.0.0.1:{cluster.port} "
        f"(ready in {time.monotonic() - started:.1f} s, log {cluster.log_path})",
    )
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def pg_url(pg_cluster: PostgresCluster | ExternalPostgres) -> Iterator[str]:
    """A fresh, uniquely named database for one test, as a postgresql+asyncpg:// URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = pg_cluster.create_database(name)
    yield url
    if isinstance(pg_cluster, ExternalPostgres):
        # A local cluster is deleted whole at session end; a shared server must be tidied.
        try:
            pg_cluster.drop_database(name)
        except Exception as exc:  # cleanup must not turn a passed test into an error
            log.warning("could not drop test database %s: %s", name, exc)


@pytest.fixture(scope="session")
def redis_server(pytestconfig: pytest.Config) -> Iterator[RedisServer | None]:
    """A local redis-server for the session, or None when REDIS_URL names an external one."""
    if os.environ.get("REDIS_URL"):
        yield None
        return
    started = time.monotonic()
    server = start_redis()
    _announce(
        pytestconfig,
        f"localinfra: {redis_version()} running at {server.url} (ready in {time.monotonic() - started:.1f} s)",
    )
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer | None) -> str:
    """redis:// URL for clients: $REDIS_URL or the local server's."""
    return os.environ["REDIS_URL"] if redis_server is None else redis_server.url
