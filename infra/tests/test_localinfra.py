"""Integration tests of localinfra against real Kafka and PostgreSQL processes (no mocks)."""

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from localinfra import ExternalPostgres, InfraError, KafkaBroker, PostgresCluster, free_ports
from localinfra.kafka import kafka_version, pinned_kafka_version, require_java
from localinfra.kafka_config import server_properties
from localinfra.pg_admin import check_db_name, plain_dsn

RECORDS = 100


async def produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    """Send with the platform's producer settings: acks=all, idempotence on."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        sent = [await producer.send(topic, key=b"aggregate-1", value=v) for v in values]
        async with asyncio.timeout(30):
            await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def consume(bootstrap: str, topic: str, group: str, count: int) -> list[bytes]:
    """Read `count` records as consumer group `group`, then commit its offsets."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        values: list[bytes] = []
        async with asyncio.timeout(60):
            while len(values) < count:
                batches = await consumer.getmany(timeout_ms=1000)
                values += [r.value for records in batches.values() for r in records]
        await consumer.commit()
        return values
    finally:
        await consumer.stop()


def new_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def local_broker(broker: KafkaBroker | None) -> KafkaBroker:
    if broker is None:
        pytest.skip("KAFKA_BOOTSTRAP_SERVERS points at an external broker: cannot restart it")
    return broker


def local_cluster(cluster: PostgresCluster | ExternalPostgres) -> PostgresCluster:
    if not isinstance(cluster, PostgresCluster):
        pytest.skip("DATABASE_URL points at an external server: cannot restart it")
    return cluster


@pytest.mark.asyncio
async def test_idempotent_producer_and_consumer_group_round_trip(kafka_bootstrap: str) -> None:
    topic = new_name("roundtrip")
    values = [f"record-{i}".encode() for i in range(RECORDS)]
    await produce(kafka_bootstrap, topic, values)
    assert await consume(kafka_bootstrap, topic, new_name("group"), RECORDS) == values


@pytest.mark.asyncio
async def test_broker_restart_keeps_records_and_committed_offsets(
    kafka_broker: KafkaBroker | None,
) -> None:
    broker = local_broker(kafka_broker)
    assert broker.version == pinned_kafka_version()
    topic, group = new_name("restart"), new_name("group")
    before = [f"before-{i}".encode() for i in range(RECORDS)]
    await produce(broker.bootstrap, topic, before)
    assert await consume(broker.bootstrap, topic, group, RECORDS) == before

    address = broker.bootstrap
    broker.restart()
    assert broker.bootstrap == address

    # The log survived: a new group reads everything from the start.
    assert await consume(broker.bootstrap, topic, new_name("group"), RECORDS) == before
    # The offsets topic survived: the old group resumes after what it committed.
    await produce(broker.bootstrap, topic, [b"after"])
    assert await consume(broker.bootstrap, topic, group, 1) == [b"after"]


@pytest.mark.asyncio
async def test_producer_reconnects_across_restart(kafka_broker: KafkaBroker | None) -> None:
    broker = local_broker(kafka_broker)
    topic = new_name("reconnect")
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        async with asyncio.timeout(60):
            await producer.send_and_wait(topic, b"one")
            broker.restart()
            await producer.send_and_wait(topic, b"two")
    finally:
        await producer.stop()
    assert await consume(broker.bootstrap, topic, new_name("group"), 2) == [b"one", b"two"]


@pytest.mark.asyncio
async def test_acknowledged_records_survive_broker_kill(kafka_broker: KafkaBroker | None) -> None:
    broker = local_broker(kafka_broker)
    topic = new_name("crash")
    values = [f"acked-{i}".encode() for i in range(RECORDS)]
    await produce(broker.bootstrap, topic, values)
    broker.kill()
    assert not broker.running
    broker.start()
    assert await consume(broker.bootstrap, topic, new_name("group"), RECORDS) == values


@pytest.mark.asyncio
async def test_postgres_row_survives_restart_and_crash(
    pg_cluster: PostgresCluster | ExternalPostgres, pg_url: str
) -> None:
    cluster = local_cluster(pg_cluster)
    dsn = plain_dsn(pg_url)
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute("CREATE TABLE note (id int PRIMARY KEY, body text NOT NULL)")
        await conn.execute("INSERT INTO note VALUES (1, '最多跑一次')")
    finally:
        await conn.close()

    cluster.restart()
    cluster.kill()
    assert not cluster.running
    cluster.start()  # crash recovery replays the WAL

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        assert await conn.fetchval("SELECT body FROM note WHERE id = 1") == "最多跑一次"
    finally:
        await conn.close()


@pytest.mark.asyncio
async def test_pg_url_is_a_fresh_sqlalchemy_async_database(
    pg_cluster: PostgresCluster | ExternalPostgres, pg_url: str
) -> None:
    assert pg_url.startswith("postgresql+asyncpg://")
    if isinstance(pg_cluster, PostgresCluster):
        assert pg_url.startswith(f"postgresql+asyncpg://app@127.0.0.1:{pg_cluster.port}/t_")
    engine = create_async_engine(pg_url)
    try:
        async with engine.connect() as conn:
            tables = await conn.scalar(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"))
    finally:
        await engine.dispose()
    assert tables == 0


def test_kafka_version_comes_from_the_jar_name(tmp_path: Path) -> None:
    (tmp_path / "kafka_2.13-4.1.2.jar").touch()
    (tmp_path / "kafka-clients-4.1.2.jar").touch()
    assert kafka_version(tmp_path) == "4.1.2"
    with pytest.raises(InfraError, match=r"no kafka_2\.13"):
        kafka_version(tmp_path / "missing")


def test_missing_java_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InfraError, match="java not found on PATH: install a JDK 17"):
        require_java()


def test_server_properties_single_node_overrides(tmp_path: Path) -> None:
    props = server_properties(data_dir=tmp_path, port=1, controller_port=2, partitions=1)
    assert "listeners=PLAINTEXT://127.0.0.1:1,CONTROLLER://127.0.0.1:2\n" in props
    assert "offsets.topic.replication.factor=1\n" in props
    assert "transaction.state.log.min.isr=1\n" in props
    assert "num.partitions=1\n" in props


def test_free_ports_are_distinct() -> None:
    ports = free_ports(5)
    assert len(set(ports)) == 5


def test_external_postgres_urls_keep_credentials() -> None:
    pg = ExternalPostgres("postgresql://svc:pw@db.internal:6543/postgres")
    assert pg.url("t_x") == "postgresql+asyncpg://svc:pw@db.internal:6543/t_x"
    assert pg.admin_url == "postgresql://svc:pw@db.internal:6543/postgres"
    with pytest.raises(InfraError, match="cannot restart"):
        pg.restart()
    with pytest.raises(InfraError, match="invalid database name"):
        check_db_name('x"; DROP DATABASE postgres; --')
