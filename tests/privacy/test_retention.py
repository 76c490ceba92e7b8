"""Retention: after a household leaves the registry, each kind of record is kept for its
own period (configurable), then the retention job erases it — only what is past its
period, never an active household, nothing twice — and reports what it did on the CLI,
on the audit chain (which still verifies) and to the auditor."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from broker import audit, jobs
from broker.erasure import retention
from broker.platform import db, runtime
from models import AuditEvent, Disbursement, Erasure, Household, Member
from models.base import utcnow
from tests.conftest import run_worker
from tests.support.aid import YUAN, make_world, need


@pytest.fixture
def world(as_role, make_user, login):
    w = make_world(as_role, make_user, login)
    w.partner("慈善总会", categories=["medical"], fund_fen=10_000 * YUAN)
    return w


def _household(world, head: str, *, left_days_ago: int | None) -> int:
    """A household with a need naming its head, a paid disbursement with a receipt
    photo; moved away ``left_days_ago`` days ago (None: still active)."""
    hid = world.household(head=head)
    rid = world.assess(hid, need("medical", "high", 100 * YUAN, f"{head}住院费用"))["needs"][0]["request_id"]
    run_worker()
    (offer,) = [o for o in world.offers_of("慈善总会") if o["request_id"] == rid]
    partner = world.partner_clients["慈善总会"]
    assert partner.post(f"/api/v1/offers/{offer['id']}/accept", json={}).status_code == 200
    paid = partner.client.post(
        f"/api/v1/offers/{offer['id']}/disbursements",
        data={"amount_fen": "5000", "evidence": (io.BytesIO(head.encode() + b" receipt"), "r.pdf", "application/pdf")},
        content_type="multipart/form-data",
        headers=partner._headers(None),
    )
    assert paid.status_code == 201, paid.get_json()
    if left_days_ago is not None:
        moved = world.caseworker.post(f"/api/v1/households/{hid}/state", json={"state": "moved_out", "reason": "搬迁"})
        assert moved.status_code == 200, moved.get_json()
        s = db.session()
        s.execute(
            update(Household).where(Household.id == hid).values(state_since=utcnow() - timedelta(days=left_days_ago))
        )
        db.commit()
    db.session.remove()
    return hid


def _state(hid: int) -> tuple[str, bool]:
    """(the head member's name, whether the receipt file is still kept)."""
    db.session.remove()
    s = db.session()
    name = s.execute(select(Member.name).where(Member.household_id == hid)).scalars().first()
    evidence = s.execute(select(Disbursement.evidence).where(Disbursement.offer_id.in_(_offer_ids(hid)))).scalar_one()
    return name, not (evidence or {}).get("erased", False)


def _offer_ids(hid: int):
    from models import AidRequest, Offer

    return select(Offer.id).join(AidRequest, AidRequest.id == Offer.request_id).where(AidRequest.household_id == hid)


def test_only_what_is_past_its_period_is_erased_once(app, world):
    """Left 400 days ago: files (365 days) and messages (180) are erased, the registry
    data (1825) is kept; left 10 days ago and still active: untouched. A second run does
    nothing. Years later the rest goes too. The chain verifies throughout."""
    old = _household(world, "赵大海", left_days_ago=400)
    recent = _household(world, "钱小梅", left_days_ago=10)
    active = _household(world, "孙建国", left_days_ago=None)
    out = app.test_cli_runner().invoke(args=["privacy", "retention"])
    assert out.exit_code == 0, out.output
    assert "1 household(s) erased" in out.output
    assert re.search(rf"household {old}: files\+messages", out.output)
    assert _state(old) == ("赵大海", False)
    assert _state(recent) == ("钱小梅", True)
    assert _state(active) == ("孙建国", True)
    again = app.test_cli_runner().invoke(args=["privacy", "retention"])
    assert "nothing past its period" in again.output
    db.session.remove()
    s = db.session()
    applied = s.execute(select(AuditEvent).where(AuditEvent.action == "retention.applied")).scalars().all()
    assert len(applied) == 1
    assert [h["household_id"] for h in audit.loads(applied[0].after)["households"]] == [old]
    report = retention.apply_retention(s, now=utcnow() + timedelta(days=2000))
    db.commit()
    assert sorted(h["household_id"] for h in report.households) == sorted([old, recent])
    assert [h["kinds"] for h in report.households if h["household_id"] == old] == [["personal"]]
    assert _state(old)[0] == "***"
    assert _state(recent) == ("***", False)
    assert _state(active) == ("孙建国", True)
    db.session.remove()
    assert audit.verify(db.session()).ok
    assert retention.apply_retention(db.session(), now=utcnow() + timedelta(days=2000)).households == []


def test_periods_are_configurable_and_the_job_runs_twice_safely(world, monkeypatch):
    """``RETENTION_DAYS`` overrides a kind's period (an unknown kind is refused); the
    scheduled job erases what that makes due, and run again does nothing."""
    monkeypatch.setitem(runtime.settings(), "RETENTION_DAYS", {"personal": 30, "files": 30, "messages": 30})
    hid = _household(world, "周文", left_days_ago=31)
    assert jobs.apply_retention() == 1
    assert jobs.apply_retention() == 0
    assert _state(hid) == ("***", False)
    db.session.remove()
    kinds = db.session().execute(select(Erasure.kinds).where(Erasure.household_id == hid)).scalars().all()
    assert kinds == [["files", "messages", "personal"]]
    monkeypatch.setitem(runtime.settings(), "RETENTION_DAYS", {"photos": 1})
    with pytest.raises(ValueError, match="photos"):
        retention.periods()


def test_periods_may_be_set_in_the_environment(tmp_path):
    """``RETENTION_DAYS=files=90,personal=1000`` in the environment sets those periods."""
    from config.settings import load_settings

    settings = load_settings({"INSTANCE_PATH": str(tmp_path)}, environ={"RETENTION_DAYS": "files=90, personal=1000"})
    assert settings["RETENTION_DAYS"] == {"files": 90, "personal": 1000}
