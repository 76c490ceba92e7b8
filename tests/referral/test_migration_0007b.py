"""Migration 0007b on a database of its own: the policy holds table appears as the model
describes it, over a database that already holds a request; a hold keeps its checks (a
known status, a positive amount, one hold per request and policy); the downgrade removes
the table and leaves the request as it was."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models import Base
from tests.referral.test_migration_0005a import SETUP
from tests.support.migrations import alembic_config, own_database

NOW = "2026-12-01 08:00:00"
HOLD = (
    "INSERT INTO policy_holds (request_id, household_id, policy_code, policy_version, amount_fen, status, reason, "
    "created_at, updated_at) VALUES (1, 1, :code, '2025.1', :amount, :status, '', :now, :now)"
)


@pytest.fixture
def engine(app, tmp_path) -> Iterator[sa.Engine]:
    with own_database(tmp_path, "mig0007b") as eng:
        yield eng


def _differences(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    return [d for d in diffs if "policy_holds" in repr(d)]


def _refused(engine: sa.Engine, **row: object) -> None:
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text(HOLD), {"now": NOW, **row})


def test_policy_holds_come_and_go_over_an_existing_request(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0005a")
    with engine.begin() as conn:
        for statement in SETUP:
            conn.execute(sa.text(statement), {"now": NOW})
    command.upgrade(cfg, "0007c_regions")
    command.upgrade(cfg, "head")
    assert _differences(engine) == []
    with engine.begin() as conn:
        conn.execute(sa.text(HOLD), {"code": "medical_aid", "amount": 250, "status": "held", "now": NOW})
    _refused(engine, code="dibao", amount=250, status="waiting")
    _refused(engine, code="dibao", amount=0, status="held")
    _refused(engine, code="medical_aid", amount=100, status="covered")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT policy_code, status FROM policy_holds")).all() == [("medical_aid", "held")]
    command.downgrade(cfg, "0007c_regions")
    assert "policy_holds" not in sa.inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status, amount_fen FROM aid_requests")).all() == [("completed", 500)]
    command.upgrade(cfg, "head")
    assert _differences(engine) == []
