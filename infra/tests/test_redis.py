"""localinfra's Redis: a real redis-server process that answers, stops, and comes back on its port."""

import pytest
import redis

from localinfra import RedisServer, start_redis


def test_the_session_server_answers(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.ping()
        client.set("localinfra:probe", "1", px=10_000)
        assert client.get("localinfra:probe") == b"1"
    finally:
        client.close()


def test_a_private_server_stops_and_starts_again_on_the_same_port() -> None:
    server: RedisServer = start_redis()
    try:
        url = server.url
        client = redis.Redis.from_url(url, socket_connect_timeout=1, retry=None)
        client.set("k", "before")
        server.stop()
        assert not server.running
        with pytest.raises(redis.ConnectionError):
            client.ping()
        server.start()
        assert server.url == url
        assert client.ping()
        assert client.get("k") is None  # no persistence: a restart starts empty
        client.close()
    finally:
        server.close()
    assert not server.workdir.exists()
