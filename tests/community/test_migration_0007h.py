"""Migration 0007h on a database of its own: the special-group, care-plan, contact, miss
and growth-camp tables appear as the models describe them, and the downgrade removes them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models import Base
from tests.support.migrations import alembic_config, own_database

TABLES = {
    "special_group_members",
    "carers",
    "care_plans",
    "care_plan_carers",
    "care_contacts",
    "care_misses",
    "camp_sessions",
    "camp_attendance",
}


@pytest.fixture
def engine(app, tmp_path) -> Iterator[sa.Engine]:
    with own_database(tmp_path, "mig0007h") as eng:
        yield eng


def _differences(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    return [d for d in diffs if any(t in repr(d) for t in TABLES)]


def test_care_tables_come_and_go(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0007d_county_rules")
    assert not TABLES & set(sa.inspect(engine).get_table_names())
    command.upgrade(cfg, "0007h_care")
    assert set(sa.inspect(engine).get_table_names()) >= TABLES
    command.upgrade(cfg, "head")  # as later revisions leave them, the models describe them
    assert _differences(engine) == []
    command.downgrade(cfg, "0007d_county_rules")
    assert not TABLES & set(sa.inspect(engine).get_table_names())
