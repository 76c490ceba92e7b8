"""Migration 0006f on a database of its own: a chain written in the old format (details
hashed into the row) is verified, its details moved beside it, re-chained in the new
format with a marker event recording the old head, and verifies; a broken old chain
stops the migration; the downgrade gives back a chain that verifies in the old format."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from broker import audit
from tests.support.migrations import alembic_config, own_database

SEP = "\x1f"
OLD = ("at", "actor", "action", "object_type", "object_id", "household_id", "request_id", "before", "after", "details")


@pytest.fixture
def engine(app, tmp_path) -> Iterator[sa.Engine]:
    with own_database(tmp_path, "mig0006f") as eng:
        yield eng


def _old_chain(n: int) -> list[dict]:
    """``n`` rows chained as the old format did: every column, details included, hashed."""
    start = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    rows, prev = [], "0" * 64
    for i in range(n):
        row = {
            "id": i + 1,
            "at": start + timedelta(seconds=i, microseconds=i),
            "actor": "user:1:admin",
            "action": "household.created",
            "object_type": "households",
            "object_id": i + 1,
            "household_id": i + 1,
            "request_id": None,
            "before": None,
            "after": json.dumps({"head_name": f"王小军{i}", "phone": "13912345678"}, ensure_ascii=False),
            "details": None if i % 2 else '{"via":"portal"}',
        }
        content = SEP.join(
            [row["at"].isoformat(timespec="microseconds")] + ["" if row[c] is None else str(row[c]) for c in OLD[1:]]
        )
        row["prev_hash"] = prev
        row["hash"] = prev = hashlib.sha256((prev + SEP + content).encode()).hexdigest()
        rows.append(row)
    return rows


def _insert(engine: sa.Engine, rows: list[dict]) -> None:
    from models.base import UTCDateTime

    table = sa.table(
        "audit_events", sa.column("at", UTCDateTime()), *(sa.column(c) for c in ("id", *OLD[1:], "prev_hash", "hash"))
    )
    with engine.begin() as conn:
        conn.execute(sa.insert(table), rows)


def test_an_old_format_chain_is_rechained_and_verifies(engine):
    """After the upgrade every old row verifies in the new format, its details read as
    before from audit_details, no personal data is left in audit_events, the marker
    event names the old head, and the old Redis anchor is recognised through it and moved
    to the new head; the downgrade restores a chain valid in the old format."""
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0005a")
    rows = _old_chain(7)
    _insert(engine, rows)
    with Session(engine) as s:  # the old head, anchored in Redis as commits did before
        audit._push_anchor(s, 7, rows[-1]["hash"], 7, rows[-1]["hash"])
    # On to chain positions too (the rows take their ids), which today's verify reads.
    command.upgrade(cfg, "0007k_chain_batches")
    with Session(engine) as s:
        result = audit.verify_rows(audit.iter_rows(s))
        assert result.ok, result.reason
        assert result.events == 8
        anchored = audit.verify(s)  # the old anchor is the marker's old head: moved on, not "rewritten"
        assert anchored.ok, anchored.reason
        assert audit.read_anchor(s).id == 8
        details = dict(s.execute(sa.text("SELECT id, after FROM audit_details")).all())
        assert details[3] == rows[2]["after"]
        marker = s.execute(sa.text("SELECT id, action FROM audit_events ORDER BY id DESC LIMIT 1")).one()
        assert marker.action == audit.RECHAINED
        recorded = json.loads(s.execute(sa.text(f"SELECT details FROM audit_details WHERE id = {marker.id}")).scalar())
        assert recorded == {"events": 7, "old_head_hash": rows[-1]["hash"], "old_head_id": 7}
        hashed = s.execute(sa.text("SELECT * FROM audit_events")).mappings().all()
        assert not any("王小军" in str(v) or "13912345678" in str(v) for r in hashed for v in r.values())
    command.downgrade(cfg, "0005a")
    with engine.connect() as conn:
        back = conn.execute(sa.text("SELECT id, after, prev_hash, hash FROM audit_events ORDER BY id")).all()
    assert [r.after for r in back[:7]] == [r["after"] for r in rows]
    assert back[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(back))


def test_a_broken_old_chain_stops_the_migration(engine):
    """A chain that no longer verifies in the old format is not re-chained (that would
    launder the tampering): the upgrade fails naming the row, and nothing changes."""
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0005a")
    rows = _old_chain(4)
    rows[1]["after"] = rows[1]["after"].replace("王小军", "李秀英")
    _insert(engine, rows)
    with pytest.raises(RuntimeError, match="broken at event 2"):
        command.upgrade(cfg, "0006f_privacy_erasure")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM audit_events WHERE after IS NOT NULL")).scalar() == 4
