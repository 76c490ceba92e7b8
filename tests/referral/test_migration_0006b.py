"""Migration 0006b on a database of its own: the follow-up visits table and the offers'
completion time appear as the models describe them; an offer completed before the
migration takes its completion time from the audit trail; and the downgrade removes both."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models import Base
from tests.referral.test_migration_0005a import OFFER, SETUP
from tests.support.migrations import alembic_config, own_database

NOW = "2026-11-30 08:00:00"
COMPLETED_AT = "2026-11-30 10:30:00"
AUDIT = (
    "INSERT INTO audit_events (at, actor, action, object_type, object_id, household_id, request_id, prev_hash, hash) "
    "VALUES (:at, 'system', :action, 'offers', :offer, 1, 1, :prev, :hash)"
)


GENESIS, SEP = "0" * 64, "\x1f"


def _old_hash(prev: str, at: str, action: str) -> str:
    """The hash of an offer's audit event in the chain's format before 0006f (which checks
    the old chain before re-chaining it)."""
    when = datetime.fromisoformat(at).replace(tzinfo=UTC).isoformat(timespec="microseconds")
    content = SEP.join([when, "system", action, "offers", "1", "1", "1", "", "", ""])
    return hashlib.sha256((prev + SEP + content).encode()).hexdigest()


@pytest.fixture
def engine(app, tmp_path) -> Iterator[sa.Engine]:
    with own_database(tmp_path, "mig0006b") as eng:
        yield eng


def _differences(engine: sa.Engine) -> list:
    """What the models say and the migrated database lacks, for the tables 0006b touches."""
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    return [d for d in diffs if "'follow_ups'" in repr(d) or "completed_at" in repr(d)]


def test_follow_ups_and_offer_completion_times_come_and_go(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0005a")
    with engine.begin() as conn:
        for statement in SETUP:
            conn.execute(sa.text(statement), {"now": NOW})
        conn.execute(sa.text(OFFER), {"id": 1, "status": "completed", "reason": "fully_disbursed", "now": NOW})
        conn.execute(sa.text(OFFER), {"id": 2, "status": "accepted", "reason": None, "now": NOW})
        first = _old_hash(GENESIS, NOW, "offer.accepted")
        second = _old_hash(first, COMPLETED_AT, "offer.completed")
        conn.execute(
            sa.text(AUDIT), {"at": NOW, "action": "offer.accepted", "offer": 1, "prev": GENESIS, "hash": first}
        )
        conn.execute(
            sa.text(AUDIT),
            {"at": COMPLETED_AT, "action": "offer.completed", "offer": 1, "prev": first, "hash": second},
        )
    command.upgrade(cfg, "0006b_followups")
    assert _differences(engine) == []
    with engine.connect() as conn:
        times = dict(conn.execute(sa.text("SELECT id, completed_at FROM offers ORDER BY id")).all())
    assert str(times[1])[:19] == COMPLETED_AT
    assert times[2] is None
    command.downgrade(cfg, "0005a")
    inspector = sa.inspect(engine)
    assert "follow_ups" not in inspector.get_table_names()
    assert "completed_at" not in {c["name"] for c in inspector.get_columns("offers")}
