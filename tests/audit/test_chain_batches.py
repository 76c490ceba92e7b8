"""The chain is linked after commit, in batches: a business transaction writes its events
unchained, with no lock and no read of the chain's head; the chaining job (or the
periodic chainer) links committed events, each exactly once, even when chainers run at
the same moment; verify reports the unchained tail and its age; the dashboard verifies
on from its checkpoint and says when the chain was last verified in full."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from rq import SimpleWorker
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from broker import audit
from broker.audit import chain as chain_mod
from broker.money import ledger
from broker.platform import db, queue, runtime
from models import AuditEvent
from models.base import utcnow
from tests.support import money
from tests.support.money import YUAN, tamper


@pytest.fixture
def by_job(monkeypatch):
    """Chain as production does: by an RQ job rung after each commit, not inline."""
    monkeypatch.setitem(runtime.settings(), "AUDIT_CHAIN_INLINE", False)


def _deposits(n: int, fund: str = "科源社区互助基金") -> list[int]:
    """``n`` deposits into a new fund, each committed; the ids of all events so far."""
    s = db.session()
    p = money.partner(s, fund)
    db.commit()
    for i in range(n):
        ledger.deposit(s, p.id, p.name, (i + 1) * YUAN, donor="王芳", memo=f"第{i + 1}笔")
        db.commit()
    ids = list(s.execute(select(AuditEvent.id).order_by(AuditEvent.id)).scalars())
    db.session.remove()
    return ids


def _positions() -> dict[int, int | None]:
    db.session.remove()
    rows = db.session().execute(select(AuditEvent.id, AuditEvent.chain_seq)).all()
    db.session.remove()
    return dict(rows)


def _chain_jobs() -> list[str]:
    q = queue.queue("default")
    return [j.func_name for j in q.jobs if j.func_name == chain_mod.CHAIN_JOB]


def test_a_commit_writes_its_events_unchained_and_the_job_chains_them(by_job, as_role):
    """After the commits the events carry no position and no hash; verify says the
    chain is intact with them in the unchained tail, seconds old; one chaining job was
    rung for all the commits, and once a worker has run it every event is chained in
    commit order, anchored, and the tail is empty."""
    ids = _deposits(4)
    assert set(_positions().values()) == {None}
    hashes = db.session().execute(select(AuditEvent.hash).where(AuditEvent.hash.is_not(None))).all()
    assert hashes == []
    result = audit.verify(db.session())
    assert result.ok
    assert (result.events, result.unchained) == (0, len(ids))
    assert 0 <= result.unchained_seconds < audit.TAIL_STALE_SECONDS
    assert not result.unchained_stale
    body = as_role("auditor").get("/api/v1/audit/verify").get_json()
    assert body["ok"] is True
    assert body["unchained"] >= len(ids)
    assert body["unchained_oldest_seconds"] < audit.TAIL_STALE_SECONDS
    assert _chain_jobs() == [chain_mod.CHAIN_JOB], "one job rung for all the commits"
    SimpleWorker([queue.queue("default")], connection=queue.connection()).work(burst=True, with_scheduler=False)
    positions = _positions()
    assert None not in positions.values()
    assert [positions[i] for i in sorted(positions)] == list(range(1, len(positions) + 1))
    db.session.remove()
    result = audit.verify(db.session())
    assert result.ok
    assert (result.events, result.unchained) == (len(positions), 0)
    anchor = audit.read_anchor(db.session())
    assert (anchor.seq, anchor.id) == (len(positions), max(positions))


def test_an_old_unchained_tail_is_reported(by_job, app, as_role):
    """Events left unchained for minutes (no worker running) are reported by the API,
    the CLI and the chain page as a tail too old; the chain itself is not broken."""
    ids = _deposits(2)
    then = utcnow() - timedelta(minutes=10)
    tamper(
        "UPDATE audit_events SET at = :then WHERE chain_seq IS NULL",
        params={"then": then if db.is_postgres() else then.strftime("%Y-%m-%d %H:%M:%S.%f")},
    )
    result = audit.verify(db.session())
    assert result.ok
    assert result.unchained == len(ids)
    assert result.unchained_seconds > 590
    assert result.unchained_stale
    auditor = as_role("auditor")
    body = auditor.get("/api/v1/audit/verify").get_json()
    assert body["ok"] is True
    assert body["unchained_stale"] is True
    assert body["unchained_oldest_seconds"] > 590
    cli = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert cli.exit_code == 0
    assert "not chained yet" in cli.output
    assert "worker" in cli.output
    out = app.test_cli_runner().invoke(args=["audit", "chain"])
    assert out.exit_code == 0
    assert "event(s) chained" in out.output
    db.session.remove()
    result = audit.verify(db.session())
    assert (result.ok, result.unchained, result.unchained_stale) == (True, 0, False)


def test_the_guard_lets_only_the_chainer_update_once(by_job):
    """The append-only guard lets an unchained event be given its position and hashes
    once, with nothing else changed; a chained event is not changed again."""
    [first, *_] = _deposits(1)
    with pytest.raises(Exception, match="append-only"), db.engine().begin() as conn:
        conn.execute(
            text("UPDATE audit_events SET chain_seq = 1, prev_hash = 'x', hash = 'y', actor = 'z' WHERE id = :i"),
            {"i": first},
        )
    assert audit.chain_pending(db.session()) >= 1
    db.session.remove()
    with pytest.raises(Exception, match="append-only"), db.engine().begin() as conn:
        conn.execute(text("UPDATE audit_events SET chain_seq = 99 WHERE id = :i"), {"i": first})
    assert audit.verify(db.session()).ok


def test_concurrent_chainers_chain_each_event_exactly_once(by_job):
    """Four chainers started at the same moment over an unchained tail, in small
    batches: every event gets exactly one position, positions run 1..n without gaps,
    and the chain verifies."""
    _deposits(12)
    n = len(_positions())
    barrier = threading.Barrier(4)

    def chainer(_: int) -> int:
        barrier.wait()
        with Session(bind=db.engine()) as own:
            return audit.chain_pending(own, limit=3)

    with ThreadPoolExecutor(max_workers=4) as pool:
        done = list(pool.map(chainer, range(4)))
    assert sum(done) == n
    positions = _positions()
    assert sorted(positions.values()) == list(range(1, n + 1))
    result = audit.verify(db.session())
    assert (result.ok, result.events, result.unchained) == (True, n, 0)


def test_the_trail_reads_in_the_order_it_was_written(by_job, as_role):
    """Reading the trail (newest or oldest first) is by event, as written, chained or not."""
    _deposits(3)
    auditor = as_role("auditor")
    items = auditor.get("/api/v1/audit/events?order=asc&per_page=50").get_json()["items"]
    ids = [e["id"] for e in items]
    assert ids == sorted(ids)
    assert all(e["hash"] is None for e in items)
    audit.chain_pending(db.session())
    chained = auditor.get("/api/v1/audit/events?order=asc&per_page=50").get_json()["items"]
    assert [e["id"] for e in chained][: len(ids)] == ids
    assert chained[0]["prev_hash"] == audit.GENESIS


# --- PostgreSQL: writers no longer wait on one another ------------------------------------------


def test_a_writer_holding_its_events_uncommitted_does_not_block_another(by_job):
    """Writer A has inserted its events (lower ids) and not committed; writer B commits
    its own meanwhile, within a short lock timeout (before, B waited on A's chain lock
    until A committed). The chainer links B's events now and A's once A commits, at
    later positions than B's although their ids are lower: the chain follows commits."""
    if not db.is_postgres():
        pytest.skip("SQLite serialises every writer: the concurrency is PostgreSQL's")
    _deposits(1)  # a chain to go on from
    a = Session(bind=db.engine())
    b = Session(bind=db.engine())
    try:
        # Two units of work with no business row in common: only the audit log is shared.
        for i in range(3):
            audit.record(a, "test.writer_a", object_type="test", object_id=i, details={"写入者": "甲"})
        chain_mod._write_pending(a)  # what A's commit does first: its events are in, uncommitted
        a_ids = a.execute(select(AuditEvent.id).where(AuditEvent.action == "test.writer_a")).scalars().all()
        b.execute(text("SET LOCAL lock_timeout = '2s'"))
        b.execute(text("SET LOCAL statement_timeout = '5s'"))
        audit.record(b, "test.writer_b", object_type="test", object_id=1, details={"写入者": "乙"})
        b.commit()  # does not wait for A
        b_ids = b.execute(select(AuditEvent.id).where(AuditEvent.action == "test.writer_b")).scalars().all()
        assert max(a_ids) < min(b_ids)
        with Session(bind=db.engine()) as chainer:
            audit.chain_pending(chainer)
        positions = _positions()
        assert all(positions[i] is not None for i in b_ids)
        assert a_ids
        assert all(i not in positions for i in a_ids)  # not visible: uncommitted
        a.commit()
    finally:
        a.close()
        b.close()
    with Session(bind=db.engine()) as chainer:
        audit.chain_pending(chainer)
    positions = _positions()
    assert min(positions[i] for i in a_ids) > max(positions[i] for i in b_ids)
    db.session.remove()
    result = audit.verify(db.session())
    assert (result.ok, result.unchained) == (True, 0)
    walked = [r.id for r in audit.iter_rows(db.session())]
    assert walked.index(a_ids[0]) > walked.index(b_ids[-1])


# --- the dashboard verifies on from its checkpoint ----------------------------------------------


def test_an_edit_after_the_checkpoint_is_found_by_the_incremental_verify():
    """What the dashboard walks (everything after its checkpoint) is checked in full."""
    ids = _deposits(3)
    assert audit.verify(db.session()).ok
    more = _deposits(2, "慈善总会")[len(ids) :]
    tamper(f"UPDATE audit_events SET actor = 'user:99:mallory' WHERE id = {more[0]}")
    db.session.remove()
    result = audit.verify_since_checkpoint(db.session())
    assert result.from_seq is not None
    assert (result.ok, result.first_bad) == (False, more[0])
    assert "edited" in result.reason
