"""A portal write queued for SQLite's writer lock past its budget shows the friendly
"briefly unavailable" page with status 503, never a 500."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from broker.platform import db, runtime
from models import Visit
from tests.platform.test_db_windows import another_writer

sqlite_only = pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="the writer lock file is SQLite's")


@pytest.fixture
def short_budget(monkeypatch):
    monkeypatch.setitem(runtime.settings(), "SQLITE_LOCK_TIMEOUT", 0.2)


@sqlite_only
def test_a_portal_write_that_waits_out_its_budget_shows_the_unavailable_page(portal, loop, short_budget):
    """A visit recorded while another writer holds SQLite's writer lock past the budget
    shows the 503 page (nothing saved); sent again once the writer is gone, it is saved."""
    portal.login(loop.caseworker)
    form = {"channel": "holiday", "visited_at": "", "findings": "春节慰问"}
    portal.get(f"/caseworker/households/{loop.household_id}/visit")
    with another_writer():
        resp = portal.post(f"/caseworker/households/{loop.household_id}/visit", form)
        assert resp.status_code == 503
        assert resp.mimetype == "text/html"
        assert "503" in resp.get_data(as_text=True)
    assert db.session().execute(select(Visit)).scalars().all() == []
    portal.get(f"/caseworker/households/{loop.household_id}/visit")
    assert portal.post(f"/caseworker/households/{loop.household_id}/visit", form).status_code == 302
    assert len(db.session().execute(select(Visit)).scalars().all()) == 1
