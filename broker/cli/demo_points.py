"""The demo's family volunteer points: the community's rules, a points shop with two
items, and the demo family's consent and hours — through the domain functions an admin
and a caseworker would use."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from broker.community import points, points_rules, points_shop
from broker.platform.scope import Principal
from broker.registry import consent_records, consents
from models import Grid, Household


def seed_points(session: Session, demo: dict[str, Any], caseworker: Principal, household: Household) -> None:
    spec = demo.get("points")
    if not spec:
        return
    community = session.get(Grid, household.grid_id).community
    for rule in spec["rules"]:
        points_rules.set_rule(session, community, **rule)
    for item in spec["shop"]:
        points_shop.add_item(session, community=community, **item)
    head = consents.head_member(session, household.id)
    consent_records.record(
        session, caseworker, household.id, {"member_id": head.id, "purpose": "points", "evidence": "志愿积分同意书"}
    )
    for hours in spec["hours"]:
        points.earn(session, household.id, **hours)
