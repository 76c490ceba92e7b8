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


NOW = "2026-11-30 08:00:00"


def insert_household(conn: sa.Connection, *, district: str = "海淀区", head: str = "王建国") -> None:
    """Grid 1 and its household 1 (two members' worth of figures, no members), as the
    schema of the revisions from 0005d on holds them: the data a migration test upgrades over."""
    conn.execute(
        sa.text(
            "INSERT INTO grids (id, code, name, district, street, community, created_at, updated_at) "
            "VALUES (1, 'G1', '网格', :district, '街道', '社区', :now, :now)"
        ),
        {"now": NOW, "district": district},
    )
    conn.execute(
        sa.text(
            "INSERT INTO households (id, grid_id, address, head_name, monthly_income_fen, consent_to_share, "
            "sudden_hardship, notes, member_count, income_per_capita_fen, school_age_children, elderly_count, "
            "disabled_count, serious_illness, unemployed_count, state, created_at, updated_at) "
            "VALUES (1, 1, '地址', :head, 96000, false, false, '', 2, 48000, 1, 0, 0, false, 0, 'active', "
            ":now, :now)"
        ),
        {"now": NOW, "head": head},
    )
