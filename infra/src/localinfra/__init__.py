"""Real Apache Kafka and PostgreSQL as local processes for tests and `make stack` (no Docker)."""

from localinfra.errors import InfraError
from localinfra.kafka import KafkaBroker, ensure_kafka_jars, kafka_version, start_kafka
from localinfra.ports import free_port, free_ports
from localinfra.postgres import (
    ExternalPostgres,
    PostgresCluster,
    ensure_postgres_binaries,
    start_postgres,
)

__all__ = [
    "ExternalPostgres",
    "InfraError",
    "KafkaBroker",
    "PostgresCluster",
    "ensure_kafka_jars",
    "ensure_postgres_binaries",
    "free_port",
    "free_ports",
    "kafka_version",
    "start_kafka",
    "start_postgres",
]
