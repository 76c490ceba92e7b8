"""A member leaves a special group (the parents came home, the family moved away): the
registry's record ends, and so do the member's care plans of that group, in one
transaction, so that no missed-contact alert follows a child who no longer needs one."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from broker.community import care_plans
from broker.platform.scope import Principal
from broker.registry import special_groups
from models import CarePlan, SpecialGroupMember


def leave_group(
    session: Session, principal: Principal, household_id: int, record_id: int, data: dict[str, Any]
) -> tuple[SpecialGroupMember, list[CarePlan]]:
    """End the record (``data``: ``reason``, optional ``ended_on``) and the member's active
    plans of the group; returns both."""
    row = special_groups.end(session, principal, household_id, record_id, data)
    plans = care_plans.end_for_group(session, row.member_id, row.group, f"special_group_end.{row.end_reason}")
    return row, plans
