"""Migration 0007k on a database of its own: events chained before it (in id order, ids
with gaps as a sequence leaves them) take their id as their chain position, so the chain
and a head anchored under its id before the migration still verify; the guard lets the
chainer give an unchained event its place once and refuses every other UPDATE; the
downgrade is refused while an event is unchained, and then puts the old schema back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import Session

from broker import audit
from broker.platform import queue
from models import Base
from models.base import UTCDateTime
from tests.support.migrations import alembic_config, own_database

IDS = (1, 2, 4, 6, 7)  # a sequence leaves gaps (rolled-back transactions)
HEAD = ("id", "at", "actor", "action", "object_type", "object_id", "household_id", "request_id", "digest")


@pytest.fixture
def engine(app, tmp_path) -> Iterator[sa.Engine]:
    with own_database(tmp_path, "mig0007k") as eng:
        yield eng


def _events_table(*extra: str) -> sa.TableClause:
    return sa.table(
        "audit_events", sa.column("at", UTCDateTime()), *(sa.column(c) for c in (*HEAD[:1], *HEAD[2:], *extra))
    )


def _old_chain(engine: sa.Engine) -> str:
    """Events chained as commits did before 0007k (in id order), with their details."""
    start = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    rows = audit.chain_rows(
        [
            {
                "id": i,
                "at": start + timedelta(minutes=i),
                "actor": "user:1:admin",
                "action": "ledger.deposit",
                "object_type": "ledger_transactions",
                "object_id": i,
                "household_id": None,
                "request_id": None,
                "before": None,
                "after": f'{{"amount_fen":{i * 100},"memo":"第{i}笔"}}',
                "details": None,
            }
            for i in IDS
        ],
        audit.GENESIS,
    )
    with engine.begin() as conn:
        conn.execute(
            sa.insert(_events_table("prev_hash", "hash")),
            [{k: r[k] for k in (*HEAD, "prev_hash", "hash")} for r in rows],
        )
        details = sa.table("audit_details", *(sa.column(c) for c in ("id", "before", "after", "details")))
        conn.execute(sa.insert(details), [{k: r[k] for k in ("id", "before", "after", "details")} for r in rows])
    return rows[-1]["hash"]


def _unchained(engine: sa.Engine, event_id: int) -> None:
    """An event as a transaction writes it from 0007k on: no position, no hashes."""
    row = {
        "id": event_id,
        "at": datetime(2026, 12, 3, 8, 0, tzinfo=UTC),
        "actor": "system",
        "action": "test.unchained",
        "object_type": "system",
        "object_id": None,
        "household_id": None,
        "request_id": None,
        "digest": audit.digest_of(None, None, None),
    }
    with engine.begin() as conn:
        conn.execute(sa.insert(_events_table()), [row])
        conn.execute(sa.text(f"INSERT INTO audit_details (id) VALUES ({event_id})"))


def _differences(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    return [d for d in diffs if "audit_events" in repr(d)]


def test_old_events_take_their_ids_as_positions_and_verify(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0007b_policy_holds")
    head_hash = _old_chain(engine)
    with Session(engine) as s:  # the head as commits anchored it before: by id only
        queue.connection().hset(audit.anchor_key(s), mapping={"id": IDS[-1], "hash": head_hash})
    command.upgrade(cfg, "head")
    assert _differences(engine) == []
    with engine.connect() as conn:
        positions = dict(conn.execute(sa.text("SELECT id, chain_seq FROM audit_events")).all())
    assert positions == {i: i for i in IDS}
    with Session(engine) as s:
        result = audit.verify(s)
        assert result.ok, result.reason
        assert (result.events, result.head_id, result.anchored_id) == (len(IDS), IDS[-1], IDS[-1])
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_events SET actor = 'mallory' WHERE id = 2"))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_events SET chain_seq = 99 WHERE id = 7"))
    _unchained(engine, 8)
    with Session(engine) as s:
        assert audit.chain_pending(s) == 1
    with Session(engine) as s:
        result = audit.verify(s)
        assert (result.ok, result.events, result.head_seq, result.unchained) == (True, len(IDS) + 1, 8, 0)
        assert audit.read_anchor(s).seq == 8
    _unchained(engine, 9)
    with pytest.raises(RuntimeError, match="unchained"):
        command.downgrade(cfg, "0007b_policy_holds")
    with Session(engine) as s:
        assert audit.chain_pending(s) == 1
    command.downgrade(cfg, "0007b_policy_holds")
    columns = {c["name"]: c for c in sa.inspect(engine).get_columns("audit_events")}
    assert "chain_seq" not in columns
    assert columns["hash"]["nullable"] is False
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_events SET actor = 'mallory' WHERE id = 2"))
    command.upgrade(cfg, "head")
    assert _differences(engine) == []
