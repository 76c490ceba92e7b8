"""The demo's care for special groups (``care:`` in ``config/seed/demo.yaml``): each
household, its member recorded in a special group, the member's care plan and the
contacts made so far — entered through the domain as the caseworker would."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from broker.community import care_contacts, care_plans
from broker.platform.scope import Principal
from broker.registry import households, special_groups
from broker.registry.household_schema import load_household


def seed_care(session: Session, caseworker: Principal, specs: list[dict[str, Any]]) -> None:
    """Seed each household of ``specs`` with its special group, plan and contacts."""
    for spec in specs:
        household = households.create_household(session, caseworker, load_household(spec["household"]))
        member = next(m for m in household.members if m.name == spec["member"])
        special_groups.record(
            session,
            caseworker,
            household.id,
            {"member_id": member.id, "group": spec["group"], "source": spec["source"], "known_on": None},
        )
        plan = care_plans.create_plan(
            session,
            caseworker,
            {**spec["plan"], "household_id": household.id, "member_id": member.id, "group": spec["group"]},
        )
        for contact in spec.get("contacts", []):
            carer = plan.carers[0].carer_id
            care_contacts.record(session, caseworker, plan.id, {**contact, "carer_id": carer})
