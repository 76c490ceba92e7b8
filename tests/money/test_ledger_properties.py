"""Properties of the ledger over random sequences of deposits, pledges, releases and
disbursements (hypothesis), checked against a plain model of the balances: every
transaction balances, every balance equals the sum of its entries, no balance but the
outside world's is ever negative, and a refused spend changes nothing."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from broker.money import fund_parts, funds, ledger, ledger_queries
from broker.platform import db, queue
from broker.platform.errors import InsufficientFunds
from models import Account, AidRequest, Entry, LedgerTransaction, Offer, Partner
from tests.conftest import truncate_all
from tests.support import money

PARTNERS, HOUSEHOLDS = 2, 2
amounts = st.integers(min_value=1, max_value=5_000)
operations = st.one_of(
    st.tuples(st.just("deposit"), st.integers(0, PARTNERS - 1), st.just(0), amounts),
    st.tuples(st.just("pledge"), st.integers(0, PARTNERS - 1), st.integers(0, HOUSEHOLDS - 1), amounts),
    st.tuples(st.just("release"), st.integers(0, PARTNERS - 1), st.integers(0, HOUSEHOLDS - 1), amounts),
    st.tuples(st.just("disburse"), st.integers(0, PARTNERS - 1), st.integers(0, HOUSEHOLDS - 1), amounts),
)


def _fresh_world():
    """Empty database and Redis, two partners, two households, a request and an offer
    for every partner and household."""
    db.session.remove()
    truncate_all()
    queue.connection().flushdb()
    s = db.session()
    partners = [money.partner(s, f"基金{i}") for i in range(PARTNERS)]
    g = money.grid(s)
    households = [money.household(s, g) for _ in range(HOUSEHOLDS)]
    links = {}
    for pi, p in enumerate(partners):
        for hi, h in enumerate(households):
            r = money.aid_request(s, h)
            links[pi, hi] = (money.offer(s, r, p).id, r.id, h.id)
    db.commit()
    return [(p.id, p.name) for p in partners], [h.id for h in households], links


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operations, min_size=1, max_size=25))
def test_random_money_movements_keep_the_books_right(app, ops):
    """Whatever the order of deposits, pledges, releases and disbursements, the ledger
    agrees with the model: balanced transactions, balances = entries, none negative."""
    partners, households, links = _fresh_world()
    fund = [0] * PARTNERS
    pledged = [0] * PARTNERS
    held = dict.fromkeys(links, 0)  # what each offer holds pledged
    received = [0] * HOUSEHOLDS
    s = db.session()
    for op, pi, hi, amount in ops:
        pid, name = partners[pi]
        offer_id, request_id, _household_id = links[pi, hi]
        source = {"deposit": None, "pledge": fund[pi], "release": held[pi, hi], "disburse": held[pi, hi]}[op]
        allowed = source is None or source >= amount
        partner, offer, req = s.get(Partner, pid), s.get(Offer, offer_id), s.get(AidRequest, request_id)
        try:
            if op == "deposit":
                ledger.deposit(s, pid, name, amount)
            elif op == "pledge":
                fund_parts.pledge(s, partner, offer, req, amount)
            elif op == "release":
                fund_parts.release(s, partner, offer, req, amount)
            else:
                fund_parts.disburse(s, partner, offer, req, amount)
            db.commit()
        except InsufficientFunds:
            s.rollback()
            assert not allowed, (op, pi, amount)
            continue
        assert allowed, (op, pi, amount)
        if op == "deposit":
            fund[pi] += amount
        elif op == "pledge":
            fund[pi] -= amount
            pledged[pi] += amount
            held[pi, hi] += amount
        elif op == "release":
            pledged[pi] -= amount
            held[pi, hi] -= amount
            fund[pi] += amount
        else:
            pledged[pi] -= amount
            held[pi, hi] -= amount
            received[hi] += amount

    for pi, (pid, _) in enumerate(partners):
        assert funds.balances(s, pid) == {
            "balance_fen": fund[pi] + pledged[pi],
            "pledged_fen": pledged[pi],
            "available_fen": fund[pi],
        }
    balances = dict(s.execute(select(Account.key, Account.balance_fen)).all())
    for hi, hid in enumerate(households):
        assert balances.get(f"beneficiary:{hid}", 0) == received[hi]
    assert balances.get("external", 0) == -sum(fund) - sum(pledged) - sum(received)
    assert all(v >= 0 for k, v in balances.items() if k != "external")
    check = ledger_queries.check(s)
    assert check.ok, check
    for txn in s.execute(select(LedgerTransaction)).scalars():
        legs = s.execute(select(Entry.amount_fen).where(Entry.transaction_id == txn.id)).scalars().all()
        assert sum(legs) == 0
        assert sorted(legs) == [-txn.amount_fen, txn.amount_fen]
    db.session.remove()
