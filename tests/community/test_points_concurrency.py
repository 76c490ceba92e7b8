"""No family redeems points it does not have and no item goes below its stock, also when
many redeem at the same moment; the same service hours sent at once are paid once.
Threads, each with its own session and connection, on whichever database the suite
runs on (PostgreSQL: row locks; SQLite: serialised writers)."""

from __future__ import annotations

from sqlalchemy import func, select

from broker.community import points, points_shop
from broker.money import ledger_queries
from broker.platform import db
from broker.platform.errors import Conflict
from models import Account, PointsEarning, Redemption, ShopItem
from tests.money.test_concurrency import _race
from tests.support import points as enrolled

N = 12


def _in_thread(fn):
    def run(i: int):
        try:
            result = fn(i)
            db.commit()
            return result
        except Exception:
            db.session().rollback()
            raise
        finally:
            db.session.remove()

    return run


def _fresh():
    db.session.remove()
    return db.session()


def test_one_family_cannot_redeem_more_than_it_has():
    s = db.session()
    h = enrolled.family(s)
    enrolled.rules(s)
    points.earn(s, h.id, activity="tutoring", minutes=750, source_ref="t")  # 100 points
    item = enrolled.item(s, price=30, stock=N)
    db.commit()
    hid, iid = h.id, item.id
    results = _race(N, _in_thread(lambda _i: points_shop.redeem(db.session(), hid, iid).balance))
    won = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(won) == 3
    assert len(refused) == N - 3
    assert {r.code for r in refused} == {"not_enough_points"}
    s = _fresh()
    assert s.execute(select(Account.balance_fen).where(Account.key == f"points:{hid}")).scalar_one() == 10
    assert s.get(ShopItem, iid).stock == N - 3
    assert ledger_queries.check(s).ok


def test_stock_never_goes_below_zero():
    s = db.session()
    enrolled.rules(s)
    families = [enrolled.family(s) for _ in range(N)]
    for h in families:
        points.earn(s, h.id, activity="tutoring", minutes=600, source_ref=f"t{h.id}")
    item = enrolled.item(s, price=10, stock=4)
    db.commit()
    ids, iid = [h.id for h in families], item.id
    results = _race(N, _in_thread(lambda i: points_shop.redeem(db.session(), ids[i], iid)))
    refused = [r for r in results if isinstance(r, Exception)]
    assert {getattr(r, "code", repr(r)) for r in refused} == {"out_of_stock"}
    s = _fresh()
    assert s.get(ShopItem, iid).stock == 0
    assert s.execute(select(func.count()).select_from(Redemption)).scalar_one() == 4


def test_the_same_hours_sent_at_once_are_paid_once():
    s = db.session()
    h = enrolled.family(s)
    enrolled.rules(s)
    db.commit()
    hid = h.id
    results = _race(
        N,
        _in_thread(
            lambda _i: points.earn(db.session(), hid, activity="escort", minutes=60, source_ref="svc:9").created
        ),
    )
    assert results.count(True) == 1
    assert results.count(False) == N - 1
    s = _fresh()
    assert s.execute(select(func.count()).select_from(PointsEarning)).scalar_one() == 1
    assert s.execute(select(Account.balance_fen).where(Account.key == f"points:{hid}")).scalar_one() == 10
