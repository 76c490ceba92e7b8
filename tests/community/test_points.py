"""Family volunteer points in the domain: earned under the community's rules (rate,
monthly cap), once per source, only with the family's consent; redeemed at the shop
within the family's points and the item's stock; every move a balanced ledger
transaction in points, on the audit chain; the money ledger still checks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from broker.community import points, points_rules, points_shop
from broker.money import ledger_queries
from broker.platform import db
from broker.platform.errors import Conflict, Invalid, NotFound
from models import Account, AuditEvent, LedgerTransaction, PointsEarning
from tests.support import points as enrolled


def _balance(household_id: int) -> int:
    return db.session().execute(select(Account.balance_fen).where(Account.key == f"points:{household_id}")).scalar_one()


def test_hours_earn_points_by_the_rule_once_per_source():
    """90 minutes of escort at 10 an hour is 15 points; the same record sent again pays nothing more."""
    s = db.session()
    h = enrolled.family(s)
    enrolled.rules(s)
    first = points.earn(s, h.id, activity="escort", minutes=90, source_ref="svc:1")
    again = points.earn(s, h.id, activity="escort", minutes=90, source_ref="svc:1")
    db.commit()
    assert first.created
    assert not again.created
    assert again.earning.id == first.earning.id
    assert first.earning.points == 15
    assert _balance(h.id) == 15
    txn = db.session().get(LedgerTransaction, first.earning.transaction_id)
    assert txn.kind == "points_earn"
    assert txn.amount_fen == 15
    assert sum(e.amount_fen for e in txn.entries) == 0
    actions = set(db.session().execute(select(AuditEvent.action)).scalars())
    assert {"ledger.points_earn", "points.earned", "points.rule_set"} <= actions
    assert ledger_queries.check(db.session()).ok


def test_the_monthly_cap_cuts_the_points_and_still_records_the_hours():
    s = db.session()
    h = enrolled.family(s)
    enrolled.rules(s)
    when = datetime(2026, 11, 10, 2, tzinfo=UTC)
    got = [
        points.earn(s, h.id, activity="escort", minutes=300, source_ref=f"svc:{i}", served_at=when).earning
        for i in range(3)
    ]
    db.commit()
    assert [e.points for e in got] == [50, 50, 0]
    assert [e.capped for e in got] == [False, False, True]
    assert _balance(h.id) == 100
    # Another month, another cap; another activity has its own rule (no cap).
    points.earn(
        s, h.id, activity="escort", minutes=60, source_ref="svc:dec", served_at=datetime(2026, 12, 1, 2, tzinfo=UTC)
    )
    points.earn(s, h.id, activity="tutoring", minutes=600, source_ref="svc:tut", served_at=when)
    db.commit()
    assert _balance(h.id) == 100 + 10 + 80


def test_no_consent_no_rule_or_bad_hours_earn_nothing():
    s = db.session()
    enrolled.rules(s)
    no_consent = enrolled.family(s, consent=False)
    h = enrolled.family(s)
    with pytest.raises(Conflict) as exc:
        points.earn(s, no_consent.id, activity="escort", minutes=60, source_ref="a")
    assert exc.value.code == "no_points_consent"
    with pytest.raises(Invalid) as exc:
        points.earn(s, h.id, activity="repairs", minutes=60, source_ref="b")
    assert exc.value.code == "no_points_rule"
    for bad in (0, -5, 2.5, True, 24 * 60 + 1):
        with pytest.raises(Invalid):
            points.earn(s, h.id, activity="escort", minutes=bad, source_ref="c")
    with pytest.raises(Invalid):
        points.earn(s, h.id, activity="escort", minutes=60, source_ref="")
    points.earn(s, h.id, activity="escort", minutes=60, source_ref="mine")
    other = enrolled.family(s)
    with pytest.raises(Conflict) as exc:
        points.earn(s, other.id, activity="escort", minutes=60, source_ref="mine")
    assert exc.value.code == "source_used"
    assert db.session().execute(select(PointsEarning.source_ref)).scalars().all() == ["mine"]


def test_redeeming_spends_points_and_stock_never_below_zero():
    s = db.session()
    h = enrolled.family(s)
    enrolled.rules(s)
    points.earn(s, h.id, activity="tutoring", minutes=600, source_ref="t")  # 80 points
    item = enrolled.item(s, price=30, stock=3)
    done = points_shop.redeem(s, h.id, item.id, 2)
    db.commit()
    assert (done.balance, done.stock, done.redemption.points) == (20, 1, 60)
    with pytest.raises(Conflict) as exc:
        points_shop.redeem(s, h.id, item.id, 1)
    assert exc.value.code == "not_enough_points"
    assert exc.value.details == {"balance": 20, "needed": 30}
    db.session().rollback()
    with pytest.raises(Conflict) as exc:
        points_shop.redeem(db.session(), h.id, item.id, 2)
    assert exc.value.code == "out_of_stock"
    db.session().rollback()
    assert _balance(h.id) == 20
    assert ledger_queries.check(db.session()).ok


def test_an_item_of_another_community_is_not_in_the_familys_shop():
    s = db.session()
    h = enrolled.family(s)
    elsewhere = enrolled.item(s, community="张家湾社区")
    with pytest.raises(NotFound):
        points_shop.redeem(s, h.id, elsewhere.id)


def test_rules_change_on_the_chain_with_what_they_were():
    s = db.session()
    rule, created = points_rules.set_rule(s, enrolled.COMMUNITY, "visit", 5, None)
    assert created
    _, again = points_rules.set_rule(s, enrolled.COMMUNITY, "visit", 5, None)
    points_rules.set_rule(s, enrolled.COMMUNITY, "visit", 6, 40)
    db.commit()
    events = db.session().execute(select(AuditEvent).where(AuditEvent.action == "points.rule_set")).scalars().all()
    assert not again
    assert len(events) == 2
    assert (rule.points_per_hour, rule.monthly_cap) == (6, 40)
    with pytest.raises(Invalid):
        points_rules.set_rule(s, enrolled.COMMUNITY, "visit", 0, None)


def test_service_in_the_far_past_or_future_is_refused():
    s = db.session()
    h = enrolled.family(s)
    enrolled.rules(s)
    for when in (datetime(1999, 12, 31, tzinfo=UTC), datetime(9999, 12, 31, 23, tzinfo=UTC)):
        with pytest.raises(Invalid) as exc:
            points.earn(s, h.id, activity="escort", minutes=60, source_ref="far", served_at=when)
        assert "served_at" in exc.value.details
