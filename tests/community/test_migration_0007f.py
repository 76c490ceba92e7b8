"""Migration 0007f on a database of its own: the points tables and the ledger's unit
column appear as the models describe them, money accounts read as fen, and the
downgrade takes them away again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models import Base
from tests.support.migrations import alembic_config, own_database

TABLES = ("points_rules", "points_earnings", "points_shop_items", "points_redemptions")


@pytest.fixture
def engine(app, tmp_path) -> Iterator[sa.Engine]:
    with own_database(tmp_path, "mig0007f") as eng:
        yield eng


def _differences(engine: sa.Engine) -> list:
    """What the models say and the migrated database lacks, for what 0007f touches."""
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    return [d for d in diffs if any(t in repr(d) for t in TABLES) or "'unit'" in repr(d)]


def test_points_tables_and_unit_come_and_go(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0006a_receipts")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO accounts (key, kind, name, balance_fen, created_at) "
                "VALUES ('external', 'external', 'External', 0, '2026-12-01 08:00:00')"
            )
        )
    command.upgrade(cfg, "0007f_points")
    assert _differences(engine) == []
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT unit FROM accounts WHERE key = 'external'")).scalar_one() == "fen"
    with engine.begin() as conn, pytest.raises(sa.exc.IntegrityError):
        conn.execute(sa.text("UPDATE accounts SET unit = 'yuan'"))
    command.downgrade(cfg, "0006a_receipts")
    names = set(sa.inspect(engine).get_table_names())
    assert not names & set(TABLES)
    assert "unit" not in {c["name"] for c in sa.inspect(engine).get_columns("accounts")}
