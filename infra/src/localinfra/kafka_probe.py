"""Readiness probe: a Kafka broker is ready when it answers a real admin request."""

from typing import Any

from aiokafka.admin import AIOKafkaAdminClient

from localinfra.asyncrun import run_sync


async def _list_topics(bootstrap: str, timeout_ms: int) -> list[str]:
    admin: Any = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms)
    await admin.start()
    try:
        return list(await admin.list_topics())
    finally:
        await admin.close()


def list_topics(bootstrap: str, timeout: float = 10.0) -> list[str]:
    """Topic names via aiokafka's admin client; raises if the broker does not answer in time."""
    return run_sync(lambda: _list_topics(bootstrap, int(timeout * 1000)), timeout)


def kafka_answers(bootstrap: str, timeout: float = 5.0) -> bool:
    """True when the broker at `bootstrap` answers a metadata (list topics) request."""
    try:
        list_topics(bootstrap, timeout)
    except Exception:  # any failure just means "not ready yet"; the caller polls again
        return False
    return True
