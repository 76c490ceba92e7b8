"""The private servers that fault tests rely on really start, stop and restart."""

from __future__ import annotations

import pytest
import redis
from sqlalchemy import create_engine, text

from tests.support.servers import PostgresCluster, RedisServer, pg_available


def test_private_redis_stops_and_restarts():
    """A private Redis answers, refuses connections once stopped, and answers again."""
    server = RedisServer().start()
    try:
        conn = redis.Redis.from_url(server.url, socket_connect_timeout=1)
        assert conn.ping()
        server.stop()
        with pytest.raises(redis.ConnectionError):
            conn.ping()
        server.start()
        assert conn.ping()
    finally:
        server.close()


@pytest.mark.skipif(not pg_available(), reason="PostgreSQL server binaries (initdb) are not installed")
def test_private_postgres_cluster_restarts():
    """A cluster made with initdb serves queries again after a restart."""
    cluster = PostgresCluster().init().start()
    try:
        url = cluster.create_database("faults")
        engine = create_engine(url, pool_pre_ping=True)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
        cluster.restart()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 2")).scalar() == 2
        engine.dispose()
    finally:
        cluster.close()
