"""What one needs submission costs the database, counted statement by statement (a
count is deterministic; a time is not): the principal in one read, the idempotency key
in one statement, the household with its recent requests in one read, the assessment,
its needs and their requests in one flush, the response from memory."""

from __future__ import annotations

import pytest

from broker.people import users
from broker.platform import db, runtime
from tests.platform.test_skeleton import assert_error_shape
from tests.support import statements
from tests.support.aid import YUAN, make_world, need

# Ours, for a submission of one need with an Idempotency-Key: the token with its user
# and grids (1 on the token's first request in a process, none after that while nothing
# it was read from changes: counted here as the first, the worst case), the key's
# INSERT … ON CONFLICT DO NOTHING RETURNING (1), the household with its requests in the
# duplicate window (1), the assessment, need and request (3, one flush), the routing job
# (1), the response stored on the key (1). More needs cost nothing more on PostgreSQL
# (the flush sends each table's rows in one INSERT); SQLite has no way to match
# RETURNING rows to a batch without a sentinel column, so there each further need is one
# INSERT more in needs, requests and outbox.
OURS = 8
# The audit log's: the events' INSERT and the details' INSERT (one statement each, every
# row with every column; on SQLite the details' INSERT is an upsert over a detail row
# left stale at a reused id). No lock and no read of the chain's head: the chainer links
# the events after the commit, in a job of its own.
AUDIT_MARKS = ("audit_events", "audit_details", "pg_advisory_xact_lock")
AUDIT = 2
# The target for one submission of one need, on SQLite and on PostgreSQL alike.
TOTAL = 10


@pytest.fixture
def world(as_role, make_user, login, monkeypatch):
    # Counted as in production: the chainer links the events after the commit, in a job
    # of its own, not inline in the request as tests otherwise have it.
    monkeypatch.setitem(runtime.settings(), "AUDIT_CHAIN_INLINE", False)
    return make_world(as_role, make_user, login)


def _submit(world, household: int, needs: list[dict], key: str) -> tuple[list[str], list[str], dict]:
    db.session.remove()  # as in production: each request starts with an empty session
    users._kept.clear()  # the token's first request in this process
    with statements.sent() as seen:
        resp = world.caseworker.post(
            f"/api/v1/households/{household}/assessments",
            json={"summary": "入户走访", "needs": needs},
            headers={"Idempotency-Key": key},
        )
    assert resp.status_code == 201, resp.get_json()
    audit = [s for s in seen if any(mark in s for mark in AUDIT_MARKS)]
    ours = [s for s in seen if s not in audit]
    return ours, audit, resp.get_json()


@pytest.mark.parametrize("count", [1, 3])
def test_a_submission_sends_at_most_ten_statements(world, count):
    """One submission of one need: 8 statements of ours and 2 of the audit log (three
    needs: the same on PostgreSQL, 3 INSERTs more per need on SQLite), none of them a
    SAVEPOINT, a second read of the principal, a read of what was just written or of the
    audit chain's head."""
    hh = world.household()
    world.assess(hh, need("living", "normal", 100 * YUAN, "先前的需求"))  # a request in the window
    needs = [need("medical", "high", 2000 * YUAN, f"住院{i}") for i in range(count)]
    ours, audit, body = _submit(world, hh, needs, f"count-{count}")
    extra = 0 if db.is_postgres() else 3 * (count - 1)
    assert len(ours) <= OURS + extra, "\n".join(ours)
    assert len(audit) <= AUDIT, "\n".join(audit)
    assert len(ours) + len(audit) <= TOTAL + extra
    assert not [s for s in audit if s.startswith("SELECT") or "pg_advisory" in s], audit
    assert not [s for s in ours if s.startswith(("SAVEPOINT", "RELEASE"))]
    reads = [s for s in ours if s.startswith("SELECT")]
    assert len(reads) == 2, reads  # the principal, and the household with its recent requests
    assert not [s for s in reads if " FROM needs" in s or " FROM assessments" in s]
    assert [n["request_status"] for n in body["needs"]] == ["active"] * count
    assert all(n["request_id"] and n["routing_state"] == "routing" for n in body["needs"])


def test_the_answer_built_in_memory_is_what_a_read_shows(world):
    """The response built from the rows just written equals the assessment as GET shows it."""
    hh = world.household()
    _ours, _audit, created = _submit(
        world, hh, [need("medical", "high", 2000 * YUAN, "化疗"), need("counselling", "normal")], "same-view"
    )
    listed = world.caseworker.get(f"/api/v1/households/{hh}/assessments").get_json()["items"]
    assert listed == [created]


def test_a_duplicate_is_still_found_in_the_one_read(world):
    """The recent requests read with the household still catch the same need sent twice."""
    hh = world.household()
    first = world.assess(hh, need("medical", "high", 2000 * YUAN, "化疗"))
    resp = world.caseworker.post(
        f"/api/v1/households/{hh}/assessments", json={"needs": [need("medical", "high", 2000 * YUAN, "化疗")]}
    )
    err = assert_error_shape(resp, 409, "possible_duplicate")
    assert err["details"]["duplicates"][0]["request_id"] == first["needs"][0]["request_id"]
