"""A family enrolled in volunteer points, its community's rules and shop, built in the
domain (for domain tests and the API scenarios)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from broker.community import points_rules, points_shop
from models import Consent, Household, Member, ShopItem
from tests.support import money

COMMUNITY = "科源社区"


def family(session: Session, *, consent: bool = True, grid=None) -> Household:
    """A household on a grid of :data:`COMMUNITY` whose head agreed to ``points``."""
    h = money.household(session, grid)
    head = Member(household_id=h.id, name=h.head_name, relation="head", birth_date=date(1980, 5, 1), sex="M")
    session.add(head)
    session.flush()
    if consent:
        session.add(
            Consent(
                household_id=h.id, member_id=head.id, purpose="points", evidence="同意书（已签字）", recorded_by="test"
            )
        )
        session.flush()
    return h


def rules(session: Session, community: str = COMMUNITY) -> None:
    """Escorts earn 10 points an hour, at most 100 a month; tutoring 8 an hour, no cap."""
    points_rules.set_rule(session, community, "escort", 10, 100)
    points_rules.set_rule(session, community, "tutoring", 8, None)


def item(session: Session, *, price: int = 30, stock: int = 5, community: str = COMMUNITY) -> ShopItem:
    return points_shop.add_item(session, community=community, name="大米 5 公斤", price_points=price, stock=stock)
