"""The audit log: the database refuses UPDATE and DELETE; the chain, checked over the
API and the CLI, finds an edited, deleted, inserted or rewritten row and a cut tail;
the fast verification agrees with the reference one; auditors read the trail and
change nothing anywhere."""

from __future__ import annotations

import gc
import re

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError

from broker import audit
from broker.audit import walk
from broker.money import fund_parts, ledger
from broker.platform import db, queue, runtime, texts
from models import AuditEvent
from tests.support import money
from tests.support.money import YUAN, tamper


def _events(n: int = 6) -> list[int]:
    """``n`` audit events from real ledger work (Chinese text, JSON, NULL columns)."""
    s = db.session()
    p = money.partner(s, "科源社区互助基金")
    db.commit()
    for i in range(n):
        ledger.deposit(s, p.id, p.name, (i + 1) * YUAN, donor="王芳", memo=f"第{i + 1}笔")
        db.commit()
    ids = list(s.execute(select(AuditEvent.id).order_by(AuditEvent.id)).scalars())
    db.session.remove()  # end the read: SQLite writers (the tampering) must not wait on it
    assert len(ids) >= n
    return ids


def _verify() -> audit.VerifyResult:
    db.session.remove()
    return audit.verify(db.session())


def test_an_untouched_chain_verifies_over_api_and_cli(app, as_role):
    """GET /audit/verify says ok with the number of events; the CLI exits 0."""
    _events()
    resp = as_role("auditor").get("/api/v1/audit/verify")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["ok"] is True
    assert body["first_bad"] is None
    assert body["reason"] is None
    assert body["events"] == audit.count(db.session())
    assert body["anchored_id"] == body["head_id"]
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_the_fast_path_hashes_exactly_what_the_reference_walk_hashes():
    """The bytes the database builds for each row are prev_hash + SEP + content_of(row),
    and its detail row's digested text, for Chinese text, JSON and NULLs alike, on this
    database."""
    _events()
    s = db.session()
    s.execute(text("SELECT 1"))
    audit.record(s, "test.nulls", object_type="system", details={"说明": "空值", "n": [1, None]})
    db.commit()
    reference = [
        (
            r.hash.encode(),
            (r.prev_hash + audit.SEP + audit.content_of(r)).encode(),
            r.digest.encode(),
            audit.details_text(r.before, r.after, r.details).encode(),
            b"p",
        )
        for r in audit.iter_rows(s)
    ]
    fast = [tuple(row) for batch in audit.payload_batches(s, batch=4) for row in batch]
    assert fast == reference
    assert audit.verify_rows(audit.iter_rows(s)).ok
    walk = audit.join_walks([audit.walk_payloads(audit.payload_batches(s, batch=3))])
    assert walk.ok
    assert walk.events == len(reference)


def test_the_database_refuses_update_and_delete_of_audit_rows():
    """The append-only guard: UPDATE and DELETE (and TRUNCATE on PostgreSQL) fail."""
    ids = _events(2)
    statements = [
        "UPDATE audit_events SET actor = 'someone else' WHERE id = :i",
        "DELETE FROM audit_events WHERE id = :i",
    ]
    if db.is_postgres():
        statements.append("TRUNCATE audit_events")
    for stmt in statements:
        with pytest.raises(DBAPIError, match="append-only"), db.engine().begin() as conn:
            conn.execute(text(stmt), {"i": ids[0]})
    assert _verify().ok


def test_an_edited_row_is_found(app, as_role):
    """Changing one row's hashed content breaks that row's own hash: verify names it over
    the API, and the CLI exits 1 naming it."""
    ids = _events()
    bad = ids[3]
    tamper(f"UPDATE audit_events SET object_id = object_id + 1 WHERE id = {bad}")
    result = _verify()
    assert (result.ok, result.first_bad) == (False, bad)
    assert "edited" in result.reason
    said = texts.render(result.reason_text["code"], result.reason_text["params"], "zh_CN")
    assert said == "记录内容与其哈希值不符：该记录被改动过。"  # as the auditor's page says it
    body = as_role("auditor").get("/api/v1/audit/verify").get_json()
    assert body["ok"] is False
    assert body["first_bad"] == bad
    assert "edited" in body["reason"]
    cli = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert cli.exit_code == 1
    assert re.search(rf"BROKEN at event {bad}\b", cli.output)


def test_an_edited_detail_is_found(app, as_role):
    """Changing a row's readable details (a disbursement's amount), which are not hashed
    into the chain, no longer matches the digest the chain carries: verify names the row."""
    ids = _events()
    bad = ids[3]
    tamper(
        f"UPDATE audit_details SET after = replace(after, :was, :now) WHERE id = {bad}",
        params={"was": '"amount_fen":', "now": '"amount_fen":9'},
    )
    result = _verify()
    assert (result.ok, result.first_bad) == (False, bad)
    assert "details edited" in result.reason
    assert result.reason_text["code"] == "audit.detail_broken"
    body = as_role("auditor").get("/api/v1/audit/verify").get_json()
    assert (body["ok"], body["first_bad"]) == (False, bad)
    cli = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert cli.exit_code == 1
    assert re.search(rf"BROKEN at event {bad}\b", cli.output)


def test_a_deleted_detail_is_found_and_an_erased_one_is_counted():
    """A detail row deleted outright is tampering; one marked erased (by an erasure) is
    counted as erased, and the chain still verifies."""
    ids = _events()
    tamper(f"UPDATE audit_details SET after = NULL, erased_at = '2026-12-02 08:00:00' WHERE id = {ids[2]}")
    result = _verify()
    assert result.ok
    assert result.erased == 1
    tamper(f"DELETE FROM audit_details WHERE id = {ids[4]}")
    result = _verify()
    assert (result.ok, result.first_bad) == (False, ids[4])
    assert "deleted" in result.reason


def test_a_deleted_row_breaks_the_next_link():
    """Deleting a row from the middle breaks the link of the row after it."""
    ids = _events()
    tamper(f"DELETE FROM audit_events WHERE id = {ids[2]}")
    result = _verify()
    assert (result.ok, result.first_bad) == (False, ids[3])
    assert "link" in result.reason


def test_an_inserted_row_is_found():
    """A forged row slipped in between two real ones (with a hash computed correctly
    for itself, at the next place in the chain, the places and ids after it shifted)
    breaks the next real row's link; one slipped in by id alone, with no place in the
    chain, carries a hash no unchained event has, and is named too."""
    ids = _events()
    s = db.session()
    row = s.execute(select(AuditEvent).where(AuditEvent.id == ids[2])).scalar_one()
    forged = {
        "at": row.at,
        "actor": "user:1:admin",
        "action": "ledger.deposit",
        "object_type": "ledger_transactions",
        "object_id": 999,
        "household_id": None,
        "request_id": None,
        "before": None,
        "after": '{"amount_fen":100}',
        "details": None,
    }
    [chained] = audit.chain_rows([forged], row.hash)
    gap = 1000
    params = {
        **{
            k: chained[k]
            for k in ("actor", "action", "object_type", "object_id", "after", "digest", "prev_hash", "hash")
        },
        # as each database stores a UTC timestamp
        "at": chained["at"] if db.is_postgres() else chained["at"].strftime("%Y-%m-%d %H:%M:%S.%f"),
    }
    insert = (
        "INSERT INTO audit_events (id, at, actor, action, object_type, object_id, digest, prev_hash, hash{seq}) "
        "VALUES ({id}, :at, :actor, :action, :object_type, :object_id, :digest, :prev_hash, :hash{at_seq})"
    )
    tamper(
        f"UPDATE audit_events SET id = id + {gap}, chain_seq = chain_seq + {gap} WHERE id > {ids[2]}",
        f"UPDATE audit_details SET id = id + {gap} WHERE id > {ids[2]}",
        insert.format(seq=", chain_seq", id=ids[2] + 1, at_seq=f", {row.chain_seq + 1}"),
        f"INSERT INTO audit_details (id, after) VALUES ({ids[2] + 1}, :after)",
        params=params,
    )
    result = _verify()
    assert (result.ok, result.first_bad) == (False, ids[3] + gap)
    assert "link" in result.reason
    tamper(
        f"DELETE FROM audit_events WHERE id = {ids[2] + 1}",
        f"UPDATE audit_events SET chain_seq = chain_seq - {gap} WHERE id > {ids[2]}",
        insert.format(seq="", id=ids[2] + 1, at_seq=""),
        params=params,
    )
    assert audit.verify_chain(db.session()).ok  # the chain itself is whole again
    result = _verify()
    assert (result.ok, result.first_bad) == (False, ids[2] + 1)
    assert result.reason_text["code"] == "audit.outside_chain"
    assert audit.chain_pending(db.session()) == 0  # the chainer leaves it alone
    db.session.remove()


def test_cutting_the_tail_is_found_through_the_anchor(as_role):
    """Deleting the last events leaves a valid but shorter chain; the head anchored in
    Redis at commit time shows that events are missing at the end, and still does after
    new events have been chained onto the shortened chain."""
    ids = _events()
    anchor = audit.read_anchor(db.session())
    assert anchor is not None
    assert anchor.id == ids[-1]
    tamper(f"DELETE FROM audit_events WHERE id >= {ids[-2]}")
    result = _verify()
    assert (result.ok, result.first_bad) == (False, ids[-1])
    assert "deleted" in result.reason
    body = as_role("auditor").get("/api/v1/audit/verify").get_json()  # signing up an auditor is audited too
    assert body["ok"] is False
    assert body["first_bad"] == ids[-1]
    s = db.session()
    p = money.partner(s)
    ledger.deposit(s, p.id, p.name, YUAN)
    db.commit()  # later commits chain onto the cut tail: the anchor remembers, they do not heal it
    later = _verify()
    assert later.ok is False
    assert later.first_bad == ids[-1]


def test_a_rewritten_chain_is_found_through_the_anchor():
    """Editing a row and recomputing every hash after it gives a self-consistent chain,
    but the anchored head no longer matches."""
    ids = _events()
    s = db.session()
    rows = [dict(r._mapping) for r in audit.iter_rows(s)]
    start = next(i for i, r in enumerate(rows) if r["id"] == ids[2])
    rows[start]["actor"] = "user:99:mallory"
    fixed = audit.chain_rows(
        [{k: v for k, v in r.items() if k not in ("id", "prev_hash", "hash")} for r in rows[start:]],
        rows[start - 1]["hash"],
    )
    tamper(
        *[
            f"UPDATE audit_events SET actor = '{f['actor']}', prev_hash = '{f['prev_hash']}', hash = '{f['hash']}' "
            f"WHERE id = {r['id']}"
            for r, f in zip(rows[start:], fixed, strict=True)
        ]
    )
    assert audit.verify_rows(audit.iter_rows(db.session())).ok  # the chain alone cannot tell
    result = _verify()
    assert (result.ok, result.first_bad) == (False, ids[-1])
    assert "rewritten" in result.reason


def test_without_an_anchor_the_chain_is_anchored_at_its_verified_head(app):
    """A fresh Redis (anchor lost) is the documented limit: verify then re-anchors at the
    verified head, and a tail cut after that is found again; ``audit reanchor`` resets it."""
    ids = _events()
    queue.connection().flushdb()
    assert audit.read_anchor(db.session()) is None
    result = _verify()
    assert result.ok
    assert result.anchored_id == ids[-1]
    tamper(f"DELETE FROM audit_events WHERE id = {ids[-1]}")
    assert _verify().first_bad == ids[-1]
    out = app.test_cli_runner().invoke(args=["audit", "reanchor"])
    assert out.exit_code == 0
    assert f"event {ids[-2]}" in out.output
    assert _verify().ok


def test_heads_reported_out_of_order_do_not_raise_a_false_alarm():
    """Commits report their heads to Redis after committing, so a later commit may
    report first: the earlier, late report is ignored, not taken for a cut tail."""
    ids = _events(4)
    s = db.session()
    rows = {r.id: r.hash for r in audit.iter_rows(s)}
    queue.connection().flushdb()
    a, b, c, d = ids[:4]
    assert audit._push_anchor(s, b, rows[b], a, rows[a])
    assert audit._push_anchor(s, d, rows[d], c, rows[c])  # the later commit reports first
    assert audit._push_anchor(s, c, rows[c], b, rows[b])  # the earlier one late: ignored
    anchor = audit.read_anchor(s)
    assert (anchor.id, anchor.broken_base) == (d, None)
    assert _verify().ok


# --- verifying in several processes -------------------------------------------------------------


def _one_walk() -> tuple[int | None, str | None]:
    """The reference: the first bad row and why, walking row by row from the start."""
    db.session.remove()
    result = audit.verify_rows(audit.iter_rows(db.session()))
    db.session.remove()
    return result.first_bad, result.reason


@pytest.mark.parametrize("processes", [2, 3])
def test_runs_verified_in_parallel_find_the_first_bad_row(processes):
    """Cut into runs of ids walked by forked workers (with 3 processes every row is a run
    of its own, so every link is checked where runs join), the chain verifies as one walk
    does; and as rows are edited and deleted, each further back than the last, the row
    named is always the lowest bad one, for the reason one walk from the start gives."""
    ids = _events(12)  # 12 runs of 1 id with 3 processes, 6 runs of 2 with 2
    whole = audit.verify_chain(db.session(), processes=1)
    db.session.remove()
    assert whole.ok
    assert audit.verify_chain(db.session(), processes=processes) == whole
    db.session.remove()
    late, middle, early = len(ids) - 2, len(ids) // 2, 2
    steps = [
        (f"UPDATE audit_events SET actor = 'user:99:mallory' WHERE id = {ids[late]}", ids[late], "edited"),
        (f"DELETE FROM audit_events WHERE id = {ids[middle]}", ids[middle + 1], "link"),
        (f"UPDATE audit_details SET details = '{{}}' WHERE id = {ids[early]}", ids[early], "edited"),
    ]
    for stmt, first_bad, why in steps:
        tamper(stmt)
        result = audit.verify_chain(db.session(), processes=processes)
        db.session.remove()
        assert (result.ok, result.first_bad) == (False, first_bad)
        assert why in result.reason
        assert (result.first_bad, result.reason) == _one_walk()


def test_verify_goes_parallel_for_long_chains(monkeypatch):
    """A chain counted long enough is verified by one process per CPU, anchor included."""
    monkeypatch.setattr(walk, "PARALLEL_MIN_EVENTS", 1)
    monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3})  # 2 walkers even on PostgreSQL
    assert audit.verify_processes(db.engine(), 1) > 1
    ids = _events()
    assert _verify().ok
    tamper(f"UPDATE audit_events SET action = 'ledger.withdrawal' WHERE id = {ids[1]}")
    result = _verify()
    assert (result.ok, result.first_bad) == (False, ids[1])


def test_a_postgresql_server_on_this_machine_counts_for_half_the_cpus(monkeypatch):
    """Each walker keeps a backend of a local server as busy as itself; a remote server's
    backends run on CPUs of their own."""
    monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3})
    n = walk.PARALLEL_MIN_EVENTS
    engines = [
        create_engine(url)
        for url in (
            "postgresql+psycopg://postgres@127.0.0.1:5432/aid",
            "postgresql+psycopg:///aid",  # a local socket
            "postgresql+psycopg://postgres@db.example.org:5432/aid",
            "sqlite:///aid.sqlite3",
        )
    ]
    assert [audit.verify_processes(e, n) for e in engines] == [2, 2, 4, 4]


def test_a_walk_gives_the_garbage_collector_back(monkeypatch):
    """The collector is held off while a walk runs, and on again after it, whether the
    chain was whole or not (and left off if it was off before)."""
    ids = _events()
    seen = []

    def batches():
        seen.append(gc.isenabled())
        yield from audit.payload_batches(db.session())

    assert walk.walk_payloads(batches()).ok
    assert (seen, gc.isenabled()) == ([False], True)
    tamper(f"UPDATE audit_events SET action = 'ledger.withdrawal' WHERE id = {ids[1]}")
    db.session.remove()
    assert not _verify().ok
    assert gc.isenabled()
    gc.disable()
    try:
        assert not walk.walk_payloads(audit.payload_batches(db.session())).ok
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_short_chains_are_verified_in_one_process():
    """Starting processes costs more than a short chain takes to verify."""
    assert audit.verify_processes(db.engine(), walk.PARALLEL_MIN_EVENTS - 1) == 1


# --- reading the trail, and changing nothing -----------------------------------------------------


def test_events_are_listed_and_filtered_for_auditors(as_role):
    """GET /audit/events: newest first (or oldest), filtered by object, household and
    request, paged, with JSON fields parsed and hashes shown."""
    s = db.session()
    p = money.partner(s, "慈善总会", fund_fen=1000 * YUAN)
    h = money.household(s)
    r = money.aid_request(s, h)
    o = money.offer(s, r, p)
    txn = fund_parts.pledge(s, p, o, r, 100 * YUAN)
    db.commit()
    auditor = as_role("auditor")
    everything = auditor.get("/api/v1/audit/events?per_page=200").get_json()
    ids = [e["id"] for e in everything["items"]]
    assert ids == sorted(ids, reverse=True)
    assert everything["total"] == len(ids)
    oldest = auditor.get("/api/v1/audit/events?order=asc&per_page=1").get_json()
    assert oldest["items"][0]["id"] == min(ids)
    assert oldest["items"][0]["prev_hash"] == audit.GENESIS
    by_request = auditor.get(f"/api/v1/audit/events?request_id={r.id}").get_json()["items"]
    assert [e["action"] for e in by_request] == ["ledger.pledge"]
    assert by_request[0]["after"]["amount_fen"] == 10000
    assert by_request[0]["household_id"] == h.id
    by_object = auditor.get(f"/api/v1/audit/events?object_type=ledger_transactions&object_id={txn.id}").get_json()
    assert by_object["total"] == 1
    assert by_object["items"][0]["object_id"] == txn.id
    assert auditor.get(f"/api/v1/audit/events?household_id={h.id}").get_json()["total"] == 1
    assert auditor.get("/api/v1/audit/events?object_id=x").status_code == 422


@pytest.mark.parametrize("role", ["caseworker", "partner"])
def test_the_trail_is_for_auditors_and_admins(as_role, role):
    """Caseworkers and partners cannot read the audit trail or run its verification."""
    s = db.session()
    p = money.partner(s)
    db.commit()
    client = as_role(role, **({"partner_id": p.id} if role == "partner" else {}))
    assert client.get("/api/v1/audit/events").status_code == 403
    assert client.get("/api/v1/audit/verify").status_code == 403


AUDITOR_WRITES = {
    "/api/v1/notifications/<int:notification_id>/read",
    "/api/v1/disbursements/<int:disbursement_id>/reversal",
    "/api/v1/reversals/<int:reversal_id>/approve",
    "/api/v1/reversals/<int:reversal_id>/reject",
    "/api/v1/concerns",  # anyone may raise a concern, with or without a token
    "/api/v1/volunteers",  # anyone may sign up as a volunteer (an empty form: 422)
    "/api/v1/reporters",  # anyone may sign up as a mobile grid member (an empty form: 422)
}


def test_auditors_get_403_on_every_write_endpoint(app, as_role):
    """Auditors read everything and change nothing: every POST, PUT, PATCH and DELETE
    under /api/v1 answers them 403, and the audit log does not grow — but signing in,
    marking one's own notification read (the reader's own inbox, not the broker's data:
    another's notification is not found, 404), and the reversals they propose or decide as
    the second pair of eyes, and raising a concern or signing up as a volunteer or a mobile grid member as anyone
    may (none exists here, and no reason is given: 404 or 422)."""
    auditor = as_role("auditor")
    before = audit.count(db.session())
    writes = sorted(
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.rule != "/api/v1/auth/token"
        for method in rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
    )
    assert ("/api/v1/partners/<int:partner_id>/deposits", "POST") in writes
    wrong = []
    for path, method in writes:
        url = re.sub(r"<(?:\w+:)?\w+>", "1", path)
        resp = auditor.client.open(url, method=method, json={}, headers=auditor._headers(None))
        expected = (404, 422) if path in AUDITOR_WRITES else (403,)  # nothing to act on, or no reason given
        if resp.status_code not in expected:
            wrong.append(f"{method} {path} → {resp.status_code}")
    assert wrong == []
    assert audit.count(db.session()) == before


def test_savepoints_neither_write_nor_drop_the_pending_chain(app):
    """A savepoint released or rolled back inside a transaction neither writes audit rows
    early nor loses the events recorded before it; the outer commit writes them all."""
    from sqlalchemy import func, select

    from broker import audit as audit_mod
    from broker.platform import db as db_mod
    from models import AuditEvent

    session = db_mod.session()
    audit_mod.record(session, "test.before_savepoint", object_type="test", object_id=1)
    with session.begin_nested():
        pass
    try:
        with session.begin_nested():
            raise ValueError("rolled back savepoint")
    except ValueError:
        pass
    assert session.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == 0
    audit_mod.record(session, "test.after_savepoint", object_type="test", object_id=2)
    db_mod.commit()
    actions = session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
    assert actions == ["test.before_savepoint", "test.after_savepoint"]
    assert audit_mod.verify(session).ok
