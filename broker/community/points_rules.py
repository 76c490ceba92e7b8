"""Each community's rules for family volunteer points, as data: how many points an hour
of each kind of volunteer activity earns, and how many a household may earn for it in a
month. Admins edit them; every change is on the audit chain with what it was before."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from broker import audit
from broker.platform import actor
from broker.platform.errors import Invalid
from broker.platform.texts import N_, define
from models import PointsRule

# The kinds of volunteer activity a rule may name (a volunteer task's kind, or what a
# caseworker records by hand); a community rewards those it chooses.
ACTIVITIES = ("visit", "escort", "tutoring", "repairs", "delivery", "cleanup", "patrol", "other")
define(
    {
        "points.activity.visit": N_("Visiting neighbours"),
        "points.activity.escort": N_("Escort to hospital"),
        "points.activity.tutoring": N_("Tutoring"),
        "points.activity.repairs": N_("Repairs"),
        "points.activity.delivery": N_("Delivery"),
        "points.activity.cleanup": N_("Community clean-up"),
        "points.activity.patrol": N_("Safety patrol"),
        "points.activity.other": N_("Other volunteer service"),
    }
)
# A rule's rate and cap: a typo guard, not a policy.
MAX_RATE = 1000
MAX_CAP = 100_000


def _rule_dict(rule: PointsRule) -> dict:
    return {
        "community": rule.community,
        "activity": rule.activity,
        "points_per_hour": rule.points_per_hour,
        "monthly_cap": rule.monthly_cap,
        "active": rule.active,
    }


def rules(session: Session, community: str | None = None) -> list[PointsRule]:
    """The rules, of one community or all, by community then activity."""
    stmt = select(PointsRule).order_by(PointsRule.community, PointsRule.activity)
    if community is not None:
        stmt = stmt.where(PointsRule.community == community)
    return list(session.execute(stmt).scalars())


def rule_for(session: Session, community: str, activity: str) -> PointsRule | None:
    """The active rule that rewards ``activity`` in ``community``, if there is one."""
    return session.execute(
        select(PointsRule).where(
            PointsRule.community == community, PointsRule.activity == activity, PointsRule.active.is_(True)
        )
    ).scalar_one_or_none()


def _check(community: str, activity: str, points_per_hour: int, monthly_cap: int | None) -> None:
    problems: dict[str, list[str]] = {}
    if not community.strip() or len(community) > 80:
        problems["community"] = ["1 to 80 characters"]
    if activity not in ACTIVITIES:
        problems["activity"] = [f"one of {', '.join(ACTIVITIES)}"]
    if type(points_per_hour) is not int or not 0 < points_per_hour <= MAX_RATE:
        problems["points_per_hour"] = [f"a whole number from 1 to {MAX_RATE}"]
    if monthly_cap is not None and (type(monthly_cap) is not int or not 0 < monthly_cap <= MAX_CAP):
        problems["monthly_cap"] = [f"empty, or a whole number from 1 to {MAX_CAP}"]
    if problems:
        raise Invalid("Check the points rule: " + ", ".join(problems) + ".", details=problems)


def set_rule(
    session: Session,
    community: str,
    activity: str,
    points_per_hour: int,
    monthly_cap: int | None = None,
    active: bool = True,
) -> tuple[PointsRule, bool]:
    """Create or change the community's rule for ``activity``; returns the rule and
    whether it was new. Unchanged, nothing is recorded."""
    community = community.strip()
    _check(community, activity, points_per_hour, monthly_cap)
    rule = session.execute(
        select(PointsRule).where(PointsRule.community == community, PointsRule.activity == activity).with_for_update()
    ).scalar_one_or_none()
    created = rule is None
    if rule is None:
        rule = PointsRule(community=community, activity=activity, points_per_hour=points_per_hour)
        try:
            with session.begin_nested():
                session.add(rule)
        except IntegrityError:  # an admin elsewhere made it first: change theirs
            return set_rule(session, community, activity, points_per_hour, monthly_cap, active)
        before = None
    else:
        before = _rule_dict(rule)
    after = {**_rule_dict(rule), "points_per_hour": points_per_hour, "monthly_cap": monthly_cap, "active": active}
    if before == after:
        return rule, False
    rule.points_per_hour, rule.monthly_cap, rule.active = points_per_hour, monthly_cap, active
    rule.updated_by = actor.current()
    session.flush()
    audit.record(session, "points.rule_set", rule, before=before, after=after)
    return rule, created
