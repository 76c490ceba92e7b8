"""Migration 0007e on a database of its own: the volunteers' tables appear as the models
describe them and the users' role accepts ``volunteer``; the downgrade removes the
tables and the volunteers' light accounts, and the role check is as before."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models import Base
from tests.support.migrations import alembic_config, own_database

TABLES = ("volunteers", "volunteer_tasks", "task_claims", "service_records")
USER = (
    "INSERT INTO users (username, display_name, password_hash, role, is_active, created_at, updated_at) "
    "VALUES (:name, :name, 'x', :role, true, '2026-12-01 08:00:00', '2026-12-01 08:00:00')"
)


@pytest.fixture
def engine(app, tmp_path) -> Iterator[sa.Engine]:
    with own_database(tmp_path, "mig0007e") as eng:
        yield eng


def _differences(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    return [d for d in diffs if any(t in repr(d) for t in TABLES)]


def test_volunteers_tables_and_role_come_and_go(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "head")  # as later revisions leave them, the models describe them
    assert _differences(engine) == []
    with engine.begin() as conn:
        conn.execute(sa.text(USER), {"name": "vol-1", "role": "volunteer"})
        conn.execute(sa.text(USER), {"name": "cw-1", "role": "caseworker"})
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text(USER), {"name": "x-1", "role": "stranger"})
    command.downgrade(cfg, "0007h_care")
    inspector = sa.inspect(engine)
    assert not set(TABLES) & set(inspector.get_table_names())
    with engine.connect() as conn:
        assert [r[0] for r in conn.execute(sa.text("SELECT username FROM users"))] == ["cw-1"]
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text(USER), {"name": "vol-2", "role": "volunteer"})
    command.upgrade(cfg, "head")  # as later revisions leave them, the models describe them
    assert _differences(engine) == []
