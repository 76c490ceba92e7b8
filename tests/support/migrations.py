"""A database of its own for a migration test: a SQLite file, or a fresh PostgreSQL
schema when the suite runs on PostgreSQL, so that a migration can be run up and down
from an old revision without touching the suite's schema."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config

from broker.platform import migrate
from tests.conftest import unique


@contextmanager
def own_database(tmp_path: Path, name: str) -> Iterator[sa.Engine]:
    """An empty database for one test, dropped afterwards; ``name`` prefixes the schema."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not (url and url.startswith("postgresql")):
        eng = sa.create_engine(f"sqlite:///{tmp_path / 'migration.sqlite3'}")
        yield eng
        eng.dispose()
        return
    schema = unique(f"{name}_").lower().replace("-", "_")
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    eng = sa.create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def alembic_config(engine: sa.Engine) -> Config:
    """The project's migrations, run against ``engine``."""
    cfg = migrate.alembic_config()
    cfg.attributes["engine"] = engine
    return cfg
