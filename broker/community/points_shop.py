"""The points shop (积分超市): goods or services donated by partners, priced in points,
with stock, per community. A household redeems what it can pay for: the item's row is
locked before the household's points, so neither stock nor points go below zero when
two families (or two taps) redeem at once; the CHECKs are the last line."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.community.points import community_of
from broker.money import ledger
from broker.platform import actor
from broker.platform.errors import Conflict, InsufficientFunds, Invalid, NotFound, found
from broker.platform.scope import Principal
from broker.registry.households import get_household
from models import Household, Partner, Redemption, ShopItem

ITEM_KINDS = ("goods", "service")
MAX_PRICE = 100_000
MAX_STOCK = 100_000
MAX_QUANTITY = 20


def items(session: Session, community: str | None = None, *, available_only: bool = False) -> list[ShopItem]:
    """The shop's items, of one community or all, by name."""
    stmt = select(ShopItem).order_by(ShopItem.community, ShopItem.name, ShopItem.id)
    if community is not None:
        stmt = stmt.where(ShopItem.community == community)
    if available_only:
        stmt = stmt.where(ShopItem.active.is_(True), ShopItem.stock > 0)
    return list(session.execute(stmt).scalars())


def add_item(
    session: Session,
    *,
    community: str,
    name: str,
    price_points: int,
    stock: int,
    kind: str = "goods",
    description: str = "",
    partner_id: int | None = None,
) -> ShopItem:
    """Put goods or a service in the community's shop (an admin, for a donating partner)."""
    problems: dict[str, list[str]] = {}
    if not community.strip() or len(community) > 80:
        problems["community"] = ["1 to 80 characters"]
    if not name.strip() or len(name) > 120:
        problems["name"] = ["1 to 120 characters"]
    if kind not in ITEM_KINDS:
        problems["kind"] = ["goods or service"]
    if type(price_points) is not int or not 0 < price_points <= MAX_PRICE:
        problems["price_points"] = [f"a whole number from 1 to {MAX_PRICE}"]
    if type(stock) is not int or not 0 <= stock <= MAX_STOCK:
        problems["stock"] = [f"a whole number from 0 to {MAX_STOCK}"]
    if partner_id is not None and session.get(Partner, partner_id) is None:
        problems["partner_id"] = ["no such partner"]
    if problems:
        raise Invalid("Check the shop item: " + ", ".join(problems) + ".", details=problems)
    item = ShopItem(
        community=community.strip(),
        name=name.strip(),
        description=description,
        kind=kind,
        price_points=price_points,
        stock=stock,
        partner_id=partner_id,
    )
    session.add(item)
    session.flush()
    audit.record(
        session,
        "points.item_added",
        item,
        after={"community": item.community, "price_points": price_points, "stock": stock, "partner_id": partner_id},
    )
    return item


@dataclass(frozen=True)
class Redeemed:
    redemption: Redemption
    balance: int
    stock: int


def redeem(session: Session, household_id: int, item_id: int, quantity: int = 1) -> Redeemed:
    """Exchange the household's points for ``quantity`` of an item of its community's
    shop. 409 ``out_of_stock`` or ``not_enough_points`` (with what there is)."""
    if type(quantity) is not int or not 0 < quantity <= MAX_QUANTITY:
        raise Invalid(f"Choose a quantity from 1 to {MAX_QUANTITY}.", details={"quantity": [f"1 to {MAX_QUANTITY}"]})
    household = found(session.get(Household, household_id), "household")
    item = session.execute(
        select(ShopItem).where(ShopItem.id == item_id).execution_options(populate_existing=True).with_for_update()
    ).scalar_one_or_none()
    if item is None or not item.active or item.community != community_of(session, household):
        raise NotFound("No such item in this family's points shop.")
    if item.stock < quantity:
        raise Conflict(f"Only {item.stock} left of this item.", code="out_of_stock", details={"stock": item.stock})
    cost = item.price_points * quantity
    try:
        txn = ledger.redeem_points(session, household_id, cost, reference=f"shop:{item.id}")
    except InsufficientFunds as exc:
        balance = ledger.lock_points(session, household_id).balance_fen
        raise Conflict(
            f"The family has {balance} points; this needs {cost}.",
            code="not_enough_points",
            details={"balance": balance, "needed": cost},
        ) from exc
    item.stock = ShopItem.stock - quantity
    redemption = Redemption(
        household_id=household_id,
        item_id=item.id,
        quantity=quantity,
        points=cost,
        transaction_id=txn.id,
        actor=actor.current(),
    )
    session.add(redemption)
    session.flush()
    session.refresh(item, ["stock"])
    audit.record(
        session,
        "points.redeemed",
        redemption,
        household_id=household_id,
        after={"item_id": item.id, "quantity": quantity, "points": cost, "stock_after": item.stock},
    )
    balance = ledger.lock_points(session, household_id).balance_fen
    return Redeemed(redemption, balance, item.stock)


def redeem_as(session: Session, principal: Principal, household_id: int, item_id: int, quantity: int = 1) -> Redeemed:
    """:func:`redeem`, on the phone of a caseworker of the household's grid, or by an admin."""
    get_household(session, principal, household_id, write=True)
    return redeem(session, household_id, item_id, quantity)
