"""Migration 0007i on a database of its own, upgraded from 0007e with data present: the
reporters' and leads' tables and the tasks' cancellation columns appear as the models
describe them and the users' role accepts ``reporter``; the downgrade removes them and
the reporters' light accounts, and keeps everyone else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models import Base
from tests.support.migrations import alembic_config, own_database

TABLES = ("reporters", "leads", "volunteer_tasks")
USER = (
    "INSERT INTO users (username, display_name, password_hash, role, is_active, created_at, updated_at) "
    "VALUES (:name, :name, 'x', :role, true, '2026-12-01 08:00:00', '2026-12-01 08:00:00')"
)
REPORTER = (
    "INSERT INTO reporters (user_id, name, phone, kind, organisation, consent_at, created_at, updated_at) "
    "SELECT id, '快递员', '13900001111', 'courier', '某快递', '2026-12-01 08:00:00', '2026-12-01 08:00:00', "
    "'2026-12-01 08:00:00' FROM users WHERE username = 'rep-1'"
)


@pytest.fixture
def engine(app, tmp_path) -> Iterator[sa.Engine]:
    with own_database(tmp_path, "mig0007i") as eng:
        yield eng


def _differences(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    return [d for d in diffs if any(t in repr(d) for t in TABLES)]


def test_reporters_leads_and_task_cancellation_come_and_go(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0007g_jobs")
    with engine.begin() as conn:
        conn.execute(sa.text(USER), {"name": "vol-1", "role": "volunteer"})
    command.upgrade(cfg, "0007i_leads")
    assert _differences(engine) == []
    with engine.begin() as conn:
        conn.execute(sa.text(USER), {"name": "rep-1", "role": "reporter"})
        conn.execute(sa.text(USER), {"name": "cw-1", "role": "caseworker"})
        conn.execute(sa.text(REPORTER))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text(USER), {"name": "x-1", "role": "stranger"})
    command.downgrade(cfg, "0007g_jobs")
    inspector = sa.inspect(engine)
    assert not {"reporters", "leads"} & set(inspector.get_table_names())
    assert "cancel_reason" not in {c["name"] for c in inspector.get_columns("volunteer_tasks")}
    with engine.connect() as conn:
        assert sorted(r[0] for r in conn.execute(sa.text("SELECT username FROM users"))) == ["cw-1", "vol-1"]
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text(USER), {"name": "rep-2", "role": "reporter"})
    command.upgrade(cfg, "0007i_leads")
    assert _differences(engine) == []
