"""Real Apache Kafka, PostgreSQL and Redis as local processes for tests and `make stack` (no Docker)."""

from localinfra.errors import InfraError
from localinfra.kafka import KafkaBroker, ensure_kafka_jars, kafka_version, start_kafka
from localinfra.ports import free_port, free_ports
from localinfra.postgres import (
    ExternalPostgres,
    PostgresCluster,
    ensure_postgres_binaries,
    start_postgres,
)
from localinfra.redis_server import RedisServer, start_redis

__all__ = [
    "ExternalPostgres",
    "InfraError",
    "KafkaBroker",
    "PostgresCluster",
    "RedisServer",
    "ensure_kafka_jars",
    "ensure_postgres_binaries",
    "free_port",
    "free_ports",
    "kafka_version",
    "start_kafka",
    "start_postgres",
    "start_redis",
]
