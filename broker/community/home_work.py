"""Home-based production (巧手脱贫: the Jingchuan embroidery case): a home-based
opening is a workshop whose workers — the members placed in it — make pieces at home.
The workshop (its partner, or an admin) records the orders it takes (buyer, items, how
many, the amount) and, per worker, the pieces delivered against an order and what she
earned for them; an order is ``delivered`` once its pieces are all in, and no more can
be delivered against it than it asked for (the order row is locked while counting).

Earnings per worker are the sum of her deliveries: caseworkers see those of their grids'
families, the workshop those of its own workers (names as the family's consent allows)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker import audit
from broker.community import courses, openings
from broker.platform.errors import Conflict, Forbidden, Invalid, NotFound
from broker.platform.pages import Page, paginate
from broker.platform.scope import Principal
from broker.registry.access import visible_grid_ids
from models import HomeDelivery, HomeOrder, Member, Opening, Placement


def _workshop(session: Session, principal: Principal, opening_id: int, *, write: bool) -> Opening:
    opening = openings.get_opening(session, principal, opening_id, write=write)
    if not opening.home_based:
        raise Invalid("Orders are kept for home-based openings.", details={"opening_id": ["not home-based"]})
    return opening


def create_order(session: Session, principal: Principal, opening_id: int, data: dict[str, Any]) -> HomeOrder:
    """Record an order the workshop took."""
    opening = _workshop(session, principal, opening_id, write=True)
    for name in ("buyer", "items"):
        if not (data.get(name) or "").strip():
            raise Invalid(f"An order names its {name}.", details={name: ["required"]})
    if not isinstance(data.get("quantity"), int) or data["quantity"] < 1:
        raise Invalid("quantity is at least 1.", details={"quantity": ["out of range"]})
    if not isinstance(data.get("amount_fen"), int) or data["amount_fen"] < 0:
        raise Invalid("amount_fen is a whole number of fen.", details={"amount_fen": ["out of range"]})
    order = HomeOrder(
        opening_id=opening.id,
        buyer=data["buyer"].strip(),
        items=data["items"].strip(),
        quantity=data["quantity"],
        amount_fen=data["amount_fen"],
        ordered_on=data.get("ordered_on") or courses.today(),
        status="open",
        created_by_id=principal.user_id or None,
    )
    session.add(order)
    session.flush()
    audit.record(
        session,
        "home_order.created",
        order,
        after={
            "opening_id": opening.id,
            "buyer": order.buyer,
            "items": order.items,
            "quantity": order.quantity,
            "amount_fen": order.amount_fen,
        },
    )
    return order


def get_order(session: Session, principal: Principal, order_id: int, *, write: bool = False) -> HomeOrder:
    order = session.get(HomeOrder, order_id)
    if order is None:
        raise NotFound("No such order.")
    _workshop(session, principal, order.opening_id, write=write)
    return order


def delivered(session: Session, order_id: int) -> int:
    return session.execute(
        select(func.coalesce(func.sum(HomeDelivery.quantity), 0)).where(HomeDelivery.order_id == order_id)
    ).scalar_one()


def record_delivery(session: Session, principal: Principal, order_id: int, data: dict[str, Any]) -> HomeDelivery:
    """A worker of the workshop delivered pieces against the order and earned for them
    (409 ``order_delivered``, ``over_delivered``)."""
    found = get_order(session, principal, order_id, write=True)
    placement = session.get(Placement, data.get("placement_id") or 0)
    if placement is None or placement.opening_id != found.opening_id:
        raise Invalid("placement_id is not a worker of this workshop.", details={"placement_id": ["not a worker here"]})
    quantity, earnings = data.get("quantity"), data.get("earnings_fen")
    if not isinstance(quantity, int) or quantity < 1:
        raise Invalid("quantity is at least 1.", details={"quantity": ["out of range"]})
    if not isinstance(earnings, int) or earnings < 0:
        raise Invalid("earnings_fen is a whole number of fen.", details={"earnings_fen": ["out of range"]})
    order = session.execute(
        select(HomeOrder).where(HomeOrder.id == found.id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    if order.status != "open":
        raise Conflict("All the pieces of this order are delivered.", code="order_delivered")
    done = delivered(session, order.id)
    if done + quantity > order.quantity:
        raise Conflict(
            f"The order asks for {order.quantity} pieces and {done} are in: "
            f"at most {order.quantity - done} more can be delivered.",
            code="over_delivered",
            details={"left": order.quantity - done},
        )
    delivery = HomeDelivery(
        order_id=order.id,
        placement_id=placement.id,
        quantity=quantity,
        earnings_fen=earnings,
        delivered_on=data.get("delivered_on") or courses.today(),
        recorded_by_id=principal.user_id or None,
    )
    session.add(delivery)
    if done + quantity == order.quantity:
        order.status = "delivered"
    session.flush()
    audit.record(
        session,
        "home_order.delivered",
        order,
        after={"placement_id": placement.id, "quantity": quantity, "earnings_fen": earnings, "status": order.status},
        household_id=placement.household_id,
    )
    return delivery


def list_orders(
    session: Session, principal: Principal, *, opening_id: int | None = None, page: int = 1, per_page: int = 50
) -> Page:
    """Orders of the workshops the principal may read (a partner: its own), newest first."""
    if principal.role not in openings.READERS:
        raise Forbidden("Orders are read by caseworkers, auditors, admins and the workshop.")
    stmt = select(HomeOrder)
    if principal.role == "partner":
        stmt = stmt.join(Opening, Opening.id == HomeOrder.opening_id).where(Opening.partner_id == principal.partner_id)
    if opening_id is not None:
        stmt = stmt.where(HomeOrder.opening_id == opening_id)
    return paginate(session, stmt.order_by(HomeOrder.ordered_on.desc(), HomeOrder.id.desc()), page, per_page)


def order_view(session: Session, order: HomeOrder) -> dict[str, Any]:
    opening = session.get(Opening, order.opening_id)
    return {
        "id": order.id,
        "opening_id": order.opening_id,
        "workshop": opening.title,
        "buyer": order.buyer,
        "items": order.items,
        "quantity": order.quantity,
        "delivered": delivered(session, order.id),
        "amount_fen": order.amount_fen,
        "ordered_on": order.ordered_on,
        "status": order.status,
        "created_at": order.created_at,
    }


def earnings(
    session: Session, principal: Principal, *, opening_id: int | None = None, member_id: int | None = None
) -> list[dict[str, Any]]:
    """Per worker: the pieces delivered and the earnings, the largest first — a
    caseworker's grids' workers, a partner's own workshops' workers."""
    if principal.role not in openings.READERS:
        raise Forbidden("Earnings are read by caseworkers, auditors, admins and the workshop.")
    stmt = (
        select(
            Placement,
            func.coalesce(func.sum(HomeDelivery.quantity), 0),
            func.coalesce(func.sum(HomeDelivery.earnings_fen), 0),
        )
        .join(Opening, Opening.id == Placement.opening_id)
        .outerjoin(HomeDelivery, HomeDelivery.placement_id == Placement.id)
        .where(Opening.home_based.is_(True))
        .group_by(Placement.id)
    )
    if principal.role == "partner":
        stmt = stmt.where(Opening.partner_id == principal.partner_id)
    else:
        visible = visible_grid_ids(principal)
        if visible is not None:
            stmt = stmt.where(Placement.grid_id.in_(visible))
    if opening_id is not None:
        stmt = stmt.where(Placement.opening_id == opening_id)
    if member_id is not None:
        stmt = stmt.where(Placement.member_id == member_id)
    rows = session.execute(stmt).all()
    out = []
    for placement, pieces, earned in rows:
        member = session.get(Member, placement.member_id)
        opening = session.get(Opening, placement.opening_id)
        out.append(
            {
                "placement_id": placement.id,
                "opening_id": opening.id,
                "workshop": opening.title,
                "member_id": placement.member_id,
                "member_name": openings.member_label(session, principal, member),
                "status": placement.status,
                "pieces": int(pieces),
                "earnings_fen": int(earned),
            }
        )
    out.sort(key=lambda r: (-r["earnings_fen"], r["placement_id"]))
    return out
