"""Reversals (红冲): a disbursement recorded in error is taken back by a correcting entry
that one person proposes and a second approves. The original is never edited; the ledger
shows both, the books still balance, reports count the net, and the money goes where the
offer's state says (still pledged, or back to the fund and routing). Also under a race."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from broker import audit
from broker.money import ledger_queries
from broker.people import users
from broker.platform import db
from broker.platform.errors import Conflict, Forbidden
from broker.referral import payments, reversals
from models import Account, AidRequest, Disbursement, LedgerTransaction, Notification, Offer, OutboxMessage, User
from tests.support import money
from tests.support.money import YUAN


def _paid(*, need: int, pledged: int, paid: int, fund: int = 10_000 * YUAN):
    """A fund pledged ``pledged`` on a request of ``need`` and paid ``paid`` of it, through
    the domain (so the offer and request move as they would)."""
    s = db.session()
    p = money.partner(s, "科源社区互助基金", kind="mutual_aid_fund", fund_fen=fund)
    g = money.grid(s)
    h = money.household(s, g)
    r = money.aid_request(s, h, category="emergency", amount_fen=need)
    o = money.pledged_offer(s, r, p, pledged)
    d = payments.pay(s, o, s.get(AidRequest, r.id), amount_fen=paid, kind="cash", reference=f"YH-{o.id}")
    db.commit()
    return p, g, r.id, o.id, d.id


def _balances(partner_id: int) -> dict[str, int]:
    db.session.remove()
    rows = db.session().execute(select(Account.key, Account.balance_fen).where(Account.partner_id == partner_id))
    return {key.split(":")[0]: balance for key, balance in rows}


def _principal(username: str):
    s = db.session()
    return users.principal_of(s.scalar(select(User).where(User.username == username)))


def test_one_proposes_another_approves_and_the_ledger_shows_both(as_role, make_user, login):
    """The partner proposes (twice: the same reversal), cannot approve, nor can the
    auditor who proposed another; a second auditor approves. The disbursement row stays
    as it was; a reversal transaction puts the money back on the offer's pledge; the books
    balance, the report counts nothing paid, the chain holds both steps."""
    p, _g, request_id, offer_id, disbursement_id = _paid(need=1000 * YUAN, pledged=1000 * YUAN, paid=700 * YUAN)
    partner = login(make_user("partner", partner_id=p.id))
    first = partner.post(f"/api/v1/disbursements/{disbursement_id}/reversal", json={"reason": "金额录错：应为 70 元"})
    assert first.status_code == 201, first.get_json()
    again = partner.post(f"/api/v1/disbursements/{disbursement_id}/reversal", json={"reason": "金额录错：应为 70 元"})
    assert again.get_json()["id"] == first.get_json()["id"]
    rid = first.get_json()["id"]
    assert first.get_json()["status"] == "pending"
    assert first.get_json()["amount_fen"] == 700 * YUAN

    assert partner.post(f"/api/v1/reversals/{rid}/approve", json={}).status_code == 403
    auditor = as_role("auditor")
    listed = auditor.get("/api/v1/reversals").get_json()["items"]
    assert [r["id"] for r in listed] == [rid]
    assert partner.get("/api/v1/reversals").get_json()["items"][0]["id"] == rid

    resp = auditor.post(f"/api/v1/reversals/{rid}/approve", json={"note": "核对凭证属实"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "approved"
    assert body["transaction_id"]
    assert auditor.post(f"/api/v1/reversals/{rid}/approve", json={}).status_code == 409

    s = db.session()
    original = s.get(Disbursement, disbursement_id)
    assert original.amount_fen == 700 * YUAN
    kinds = dict(
        s.execute(
            select(LedgerTransaction.kind, func.sum(LedgerTransaction.amount_fen))
            .where(LedgerTransaction.offer_id == offer_id)
            .group_by(LedgerTransaction.kind)
        ).all()
    )
    assert kinds == {"pledge": 1000 * YUAN, "disbursement": 700 * YUAN, "reversal": 700 * YUAN}
    assert s.get(Offer, offer_id).disbursed_fen == 0
    assert s.get(AidRequest, request_id).disbursed_fen == 0
    assert _balances(p.id) == {"fund": 9000 * YUAN, "pledged": 1000 * YUAN}
    assert ledger_queries.check(db.session()).ok

    report = auditor.get("/api/v1/reports/disbursements?group_by=partner").get_json()
    assert report["amount_fen"] == 0
    assert report["count"] == 0
    ledger = auditor.get("/api/v1/ledger?kind=reversal").get_json()
    assert [t["amount_fen"] for t in ledger["items"]] == [700 * YUAN]
    actions = [e.action for e in audit.events(db.session(), request_id=request_id, per_page=200).items]
    assert "reversal.proposed" in actions
    assert "reversal.approved" in actions
    assert audit.verify(db.session()).ok

    # The partner records what really reached the family, from the pledge it got back.
    again_paid = partner.post(
        f"/api/v1/offers/{offer_id}/disbursements", json={"amount_fen": 70 * YUAN, "kind": "cash", "reference": "YH-2"}
    )
    assert again_paid.status_code == 201, again_paid.get_json()


def test_the_proposer_never_approves(make_user):
    """An auditor who proposed a reversal cannot approve it; the database refuses it too."""
    _p, _g, _r, _o, disbursement_id = _paid(need=700 * YUAN, pledged=700 * YUAN, paid=700 * YUAN)
    who = make_user("auditor")
    s = db.session()
    rev = reversals.propose(s, _principal(who), disbursement_id, "重复登记")
    db.commit()
    with pytest.raises(Forbidden):
        reversals.approve(db.session(), _principal(who), rev.id)
    db.session.rollback()
    assert db.session().get(type(rev), rev.id).status == "pending"


def test_a_finished_offer_gives_the_money_back_to_the_fund_and_routing(make_user):
    """The partner paid all it pledged (its offer is complete) but only part of the need:
    reversing the payment returns the money to its fund and the request, still open, goes
    back to routing for the whole amount."""
    p, _g, request_id, offer_id, disbursement_id = _paid(need=1000 * YUAN, pledged=600 * YUAN, paid=600 * YUAN)
    s = db.session()
    assert s.get(Offer, offer_id).status == "completed"
    assert s.get(AidRequest, request_id).status == "active"
    rev = reversals.propose(s, _principal(make_user("admin")), disbursement_id, "付款被银行退回")
    db.commit()
    before = db.session().scalar(select(func.count()).select_from(OutboxMessage))
    reversals.approve(db.session(), _principal(make_user("auditor")), rev.id)
    db.commit()
    assert _balances(p.id) == {"fund": 10_000 * YUAN, "pledged": 0}
    s = db.session()
    req = s.get(AidRequest, request_id)
    assert (req.disbursed_fen, req.funded_fen, req.status) == (0, 0, "active")
    routes = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "route_request")).all()
    assert s.scalar(select(func.count()).select_from(OutboxMessage)) > before
    assert any(m.payload.get("request_id") == request_id for m in routes)
    assert ledger_queries.check(s).ok


def test_a_completed_request_stays_complete_and_its_caseworker_is_told(make_user):
    """A request fully paid and completed stays completed (its lifecycle ends there); its
    caseworker is notified that the family did not receive the reversed amount."""
    p, g, request_id, _offer_id, disbursement_id = _paid(need=700 * YUAN, pledged=700 * YUAN, paid=700 * YUAN)
    caseworker = make_user("caseworker", grids=(g.code,))
    assert db.session().get(AidRequest, request_id).status == "completed"
    rev = reversals.propose(db.session(), _principal(make_user("admin")), disbursement_id, "重复登记")
    db.commit()
    reversals.approve(db.session(), _principal(make_user("auditor")), rev.id)
    db.commit()
    s = db.session()
    assert s.get(AidRequest, request_id).status == "completed"
    notes = s.scalars(
        select(Notification).join(User, User.id == Notification.user_id).where(User.username == caseworker)
    ).all()
    assert [n.code for n in notes] == ["disbursement_reversed_closed"]
    assert notes[0].params["amount_fen"] == 700 * YUAN
    assert _balances(p.id) == {"fund": 10_000 * YUAN, "pledged": 0}


def test_bad_input_and_other_partners_and_rejection(as_role, make_user, login):
    """A blank reason is refused (422); another partner's disbursement and one that does
    not exist are not found; a rejection needs a reason, leaves the disbursement standing,
    and the disbursement may be proposed again."""
    p, _g, _r, _o, disbursement_id = _paid(need=700 * YUAN, pledged=700 * YUAN, paid=700 * YUAN)
    other = money.partner(db.session(), "慈善总会")
    db.commit()
    mine = login(make_user("partner", partner_id=p.id))
    stranger = login(make_user("partner", partner_id=other.id))
    url = f"/api/v1/disbursements/{disbursement_id}/reversal"
    assert mine.post(url, json={"reason": "  "}).status_code == 422
    assert mine.post(url, json={}).status_code == 422
    assert stranger.post(url, json={"reason": "错"}).status_code == 404
    assert mine.post("/api/v1/disbursements/999999/reversal", json={"reason": "错"}).status_code == 404
    assert as_role("caseworker").post(url, json={"reason": "错"}).status_code == 403

    rid = mine.post(url, json={"reason": "金额录错"}).get_json()["id"]
    assert stranger.get(f"/api/v1/reversals/{rid}").status_code == 404
    auditor = as_role("auditor")
    assert auditor.post(f"/api/v1/reversals/{rid}/reject", json={}).status_code == 422
    rejected = auditor.post(f"/api/v1/reversals/{rid}/reject", json={"note": "凭证显示金额无误"})
    assert rejected.status_code == 200
    assert rejected.get_json()["status"] == "rejected"
    assert _balances(p.id) == {"fund": 9300 * YUAN, "pledged": 0}
    anew = mine.post(url, json={"reason": "再次核对：确系误录"})
    assert anew.status_code == 201
    assert anew.get_json()["id"] != rid


def test_two_approvals_at_once_move_the_money_once(make_user):
    """Two auditors approve the same reversal at the same moment (threads, each with its
    own connection): one wins, the other is told it is already approved; one reversal
    transaction, and the books balance."""
    p, _g, _r, offer_id, disbursement_id = _paid(need=1000 * YUAN, pledged=1000 * YUAN, paid=700 * YUAN)
    rev = reversals.propose(db.session(), _principal(make_user("admin")), disbursement_id, "重复登记")
    db.commit()
    deciders = [_principal(make_user("auditor")) for _ in range(2)]
    db.session.remove()
    barrier = threading.Barrier(2)

    def approve(i: int) -> str:
        barrier.wait()
        try:
            reversals.approve(db.session(), deciders[i], rev.id)
            db.commit()
            return "approved"
        except Conflict:
            db.session.rollback()
            return "conflict"
        finally:
            db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(approve, range(2)))
    assert outcomes == ["approved", "conflict"]
    assert _balances(p.id) == {"fund": 9000 * YUAN, "pledged": 1000 * YUAN}  # (a fresh session)
    s = db.session()
    count = s.scalar(
        select(func.count())
        .select_from(LedgerTransaction)
        .where(LedgerTransaction.kind == "reversal", LedgerTransaction.offer_id == offer_id)
    )
    assert count == 1
    assert ledger_queries.check(s).ok
