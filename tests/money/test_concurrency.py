"""No overspend, ever: many spends at the same moment against a fund (or one restricted
part of it) that can pay for only some of them. Proved in the domain (threads, each with its own session and
database connection) and over HTTP against a real threaded server (a pool of httpx
clients), on whichever database the suite runs on — PostgreSQL (row locks) or SQLite
(serialised writers)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import func, select

from broker import audit
from broker.money import fund_parts, funds, ledger_queries
from broker.platform import db
from broker.platform.errors import InsufficientFunds
from models import Account, AidRequest, Disbursement, FundRestriction, LedgerTransaction, Offer, Partner
from tests.support import money
from tests.support.money import YUAN

N, CAN_PAY, AMOUNT = 50, 10, 700 * YUAN


def _race(n: int, fn: Any) -> list[Any]:
    """Run ``fn(i)`` in ``n`` threads released together; return results (or exceptions)."""
    barrier = threading.Barrier(n)

    def run(i: int) -> Any:
        barrier.wait()
        try:
            return fn(i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted on by the caller
            return exc

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def _accounts(partner_id: int) -> dict[str, int]:
    db.session.remove()
    s = db.session()
    rows = s.execute(select(Account.key, Account.balance_fen).where(Account.partner_id == partner_id)).all()
    return {key.split(":")[0]: balance for key, balance in rows}


def _world(fund_fen: int, *, pledged_fen: int = 0):
    """A fund, a household and its request; the offer to the fund is accepted and
    pledged for ``pledged_fen`` if given."""
    s = db.session()
    p = money.partner(s, "科源社区互助基金", kind="mutual_aid_fund", fund_fen=fund_fen)
    h = money.household(s)
    r = money.aid_request(s, h, category="emergency", amount_fen=pledged_fen or AMOUNT)
    o = money.pledged_offer(s, r, p, pledged_fen) if pledged_fen else money.offer(s, r, p)
    db.commit()
    return p, h, r, o


# --- in the domain -----------------------------------------------------------------------------


def _move_money(move: Any) -> str:
    """One thread's unit of work: "ok" if the ledger let the money move, "refused" if not."""
    s = db.session()
    try:
        move(s)
        db.commit()
        return "ok"
    except InsufficientFunds:
        s.rollback()
        return "refused"
    finally:
        db.session.remove()


def test_concurrent_pledges_never_overspend_the_fund():
    """50 threads each pledge 700 yuan at once from a fund holding 7,000: exactly 10
    succeed, 40 get insufficient_funds, and the fund ends at exactly zero."""
    p, _h, r, o = _world(CAN_PAY * AMOUNT)

    def pledge(_i: int) -> str:
        return _move_money(
            lambda s: fund_parts.pledge(s, s.get(Partner, p.id), s.get(Offer, o.id), s.get(AidRequest, r.id), AMOUNT)
        )

    results = _race(N, pledge)
    assert results.count("ok") == CAN_PAY, results
    assert results.count("refused") == N - CAN_PAY
    assert _accounts(p.id) == {"fund": 0, "pledged": CAN_PAY * AMOUNT}
    s = db.session()
    assert s.execute(select(func.count()).where(LedgerTransaction.kind == "pledge")).scalar_one() == CAN_PAY
    assert ledger_queries.check(s).ok
    assert audit.verify(s).ok


def test_concurrent_disbursements_never_spend_more_than_was_pledged():
    """50 threads each pay 700 yuan at once out of a 7,000-yuan pledge: exactly 10 are
    paid, and the pledged account ends at exactly zero, the household at 7,000."""
    p, h, r, o = _world(CAN_PAY * AMOUNT)
    s = db.session()
    fund_parts.pledge(s, p, o, r, CAN_PAY * AMOUNT)
    db.commit()
    db.session.remove()

    def pay(_i: int) -> str:
        return _move_money(
            lambda s: fund_parts.disburse(s, s.get(Partner, p.id), s.get(Offer, o.id), s.get(AidRequest, r.id), AMOUNT)
        )

    results = _race(N, pay)
    assert results.count("ok") == CAN_PAY, results
    assert _accounts(p.id) == {"fund": 0, "pledged": 0}
    s = db.session()
    household = s.execute(select(Account.balance_fen).where(Account.key == f"beneficiary:{h.id}")).scalar_one()
    assert household == CAN_PAY * AMOUNT
    assert ledger_queries.check(s).ok


def test_concurrent_pledges_never_overspend_a_restricted_part():
    """A partner holds 7,000 yuan restricted to medical needs and 7,000 restricted to living
    costs; 50 threads each pledge 700 for one medical need at once: exactly 10 succeed, the
    other 40 are refused with ``restricted_funds`` (the money is there, but not for this
    need); the medical part ends at exactly zero and the living part is untouched."""
    s = db.session()
    p = money.partner(s, "市慈善总会")
    funds.record_deposit(s, p.id, amount_fen=CAN_PAY * AMOUNT, restriction={"categories": ["medical"]})
    funds.record_deposit(s, p.id, amount_fen=CAN_PAY * AMOUNT, restriction={"categories": ["living"]})
    h = money.household(s)
    r = money.aid_request(s, h, category="medical", amount_fen=AMOUNT)
    o = money.offer(s, r, p)
    db.commit()

    def pledge(_i: int) -> str:
        s = db.session()
        try:
            fund_parts.pledge(s, s.get(Partner, p.id), s.get(Offer, o.id), s.get(AidRequest, r.id), AMOUNT)
            db.commit()
            return "ok"
        except fund_parts.RestrictedFunds:
            s.rollback()
            return "restricted"
        finally:
            db.session.remove()

    results = _race(N, pledge)
    assert results.count("ok") == CAN_PAY, results
    assert results.count("restricted") == N - CAN_PAY
    db.session.remove()
    s = db.session()
    parts = {tuple(restriction.categories): (fund, pledged) for restriction, fund, pledged in _parts(s, p.id)}
    assert parts == {("medical",): (0, CAN_PAY * AMOUNT), ("living",): (CAN_PAY * AMOUNT, 0)}
    assert ledger_queries.check(s).ok
    assert audit.verify(s).ok


def _parts(s, partner_id: int) -> list[tuple[FundRestriction, int, int]]:
    """Each restricted part of the partner: its restriction, fund and pledged balances."""
    rows = s.execute(
        select(FundRestriction, Account.kind, Account.balance_fen)
        .join(Account, Account.restriction_id == FundRestriction.id)
        .where(FundRestriction.partner_id == partner_id)
    ).all()
    found: dict[int, dict] = {}
    for restriction, kind, balance in rows:
        found.setdefault(restriction.id, {"r": restriction})[kind] = balance
    return [(v["r"], v["fund"], v["pledged"]) for v in found.values()]


# --- over HTTP, against a real server -------------------------------------------------------------


def _post_all(base: str, token: str, paths_and_bodies: list[tuple[str, dict]], headers: dict | None = None):
    """POST each (path, body) from its own thread and client, all released together."""

    def post(i: int) -> httpx.Response:
        path, body = paths_and_bodies[i]
        with httpx.Client(base_url=base, timeout=120) as client:
            return client.post(path, json=body, headers={"Authorization": f"Bearer {token}", **(headers or {})})

    results = _race(len(paths_and_bodies), post)
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    return results


def test_fifty_concurrent_accepts_over_http_pledge_for_exactly_ten(app, make_user):
    """50 offers of 700 yuan accepted at the same moment over HTTP, from a fund holding
    7,000: exactly 10 answers are 200, the other 40 a clear 409 insufficient_funds, and
    the fund's balances are exact."""
    s = db.session()
    p = money.partner(s, "科源社区互助基金", kind="mutual_aid_fund", fund_fen=CAN_PAY * AMOUNT)
    g = money.grid(s)
    offers = []
    for _ in range(N):
        r = money.aid_request(s, money.household(s, g), category="emergency", amount_fen=AMOUNT)
        offers.append(money.offer(s, r, p).id)
    db.commit()
    user = make_user("partner", partner_id=p.id)
    with money.live_server(app) as base:
        token = money.token_for(base, user)
        responses = _post_all(base, token, [(f"/api/v1/offers/{oid}/accept", {}) for oid in offers])
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * CAN_PAY + [409] * (N - CAN_PAY)
    refused = [r.json()["error"] for r in responses if r.status_code == 409]
    assert {e["code"] for e in refused} == {"insufficient_funds"}
    assert all(e["details"].get("available_fen") == 0 or "fund" in e["message"] for e in refused)
    assert _accounts(p.id) == {"fund": 0, "pledged": CAN_PAY * AMOUNT}
    s = db.session()
    accepted = s.execute(select(func.count()).where(Offer.status == "accepted")).scalar_one()
    assert accepted == CAN_PAY
    assert ledger_queries.check(s).ok
    assert audit.verify(s).ok


def test_fifty_concurrent_disbursements_over_http_pay_out_exactly_ten(app, make_user):
    """50 disbursements of 700 yuan posted at the same moment over HTTP on an offer
    accepted for 7,000: exactly 10 are recorded (201); the other 40 are refused with a
    409 (the offer is fully paid); pledged money and the household's account are exact."""
    p, h, _r, o = _world(CAN_PAY * AMOUNT, pledged_fen=CAN_PAY * AMOUNT)
    user = make_user("partner", partner_id=p.id)
    with money.live_server(app) as base:
        token = money.token_for(base, user)
        bodies = [{"amount_fen": AMOUNT, "kind": "cash", "reference": f"BANK-RACE-{i}"} for i in range(N)]
        responses = _post_all(base, token, [(f"/api/v1/offers/{o.id}/disbursements", body) for body in bodies])
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == CAN_PAY, codes
    refused = [r for r in responses if r.status_code != 201]
    assert {r.status_code for r in refused} == {409}
    assert all(r.json()["error"]["code"] in ("invalid_transition", "insufficient_funds") for r in refused)
    assert _accounts(p.id) == {"fund": 0, "pledged": 0}
    s = db.session()
    assert s.execute(select(func.count()).select_from(Disbursement)).scalar_one() == CAN_PAY
    household = s.execute(select(Account.balance_fen).where(Account.key == f"beneficiary:{h.id}")).scalar_one()
    assert household == CAN_PAY * AMOUNT
    assert ledger_queries.check(s).ok


def test_twenty_identical_disbursements_with_one_key_pay_once(app, make_user):
    """The same Idempotency-Key sent 20 times at once: one disbursement, one ledger
    transaction; every answer is the same 201 body, all but one marked as replays."""
    p, _h, _r, o = _world(CAN_PAY * AMOUNT, pledged_fen=CAN_PAY * AMOUNT)
    user = make_user("partner", partner_id=p.id)
    with money.live_server(app) as base:
        token = money.token_for(base, user)
        body = {"amount_fen": AMOUNT, "kind": "cash", "reference": "BANK-ONCE"}
        responses = _post_all(
            base,
            token,
            [(f"/api/v1/offers/{o.id}/disbursements", body)] * 20,
            headers={"Idempotency-Key": "pay-once-6f1c2a"},
        )
    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses if r.status_code != 201]
    assert len({json.dumps(r.json(), sort_keys=True) for r in responses}) == 1
    assert (
        sorted(r.headers.get("Idempotency-Replayed") for r in responses if "Idempotency-Replayed" in r.headers)
        == ["true"] * 19
    )
    s = db.session()
    assert s.execute(select(func.count()).select_from(Disbursement)).scalar_one() == 1
    assert s.execute(select(func.count()).where(LedgerTransaction.kind == "disbursement")).scalar_one() == 1
    assert _accounts(p.id)["pledged"] == (CAN_PAY - 1) * AMOUNT


def test_one_voucher_posted_at_once_without_a_key_is_recorded_once(app, make_user):
    """The same voucher number sent 8 times at once without an Idempotency-Key (a client
    that retries on its own): one disbursement; every other answer is a 409
    ``duplicate_reference`` naming it — the unique index settles the race the domain's
    check cannot see."""
    p, _h, _r, o = _world(CAN_PAY * AMOUNT, pledged_fen=CAN_PAY * AMOUNT)
    user = make_user("partner", partner_id=p.id)
    with money.live_server(app) as base:
        token = money.token_for(base, user)
        body = {"amount_fen": AMOUNT, "reference": "BANK-TWICE"}
        responses = _post_all(base, token, [(f"/api/v1/offers/{o.id}/disbursements", body)] * 8)
    created = [r for r in responses if r.status_code == 201]
    assert len(created) == 1, [r.text for r in responses]
    refused = [r.json()["error"] for r in responses if r.status_code != 201]
    assert {(e["code"], e["details"]["disbursement_id"]) for e in refused} == {
        ("duplicate_reference", created[0].json()["id"])
    }
    assert _accounts(p.id)["pledged"] == (CAN_PAY - 1) * AMOUNT
    s = db.session()
    assert s.execute(select(func.count()).select_from(Disbursement)).scalar_one() == 1
    assert ledger_queries.check(s).ok
