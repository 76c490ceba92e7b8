"""Family volunteer points (家庭志愿积分): a household earns points for volunteer hours
under its community's rules (:mod:`.points_rules`) and spends them in the points shop
(:mod:`.points_shop`). The points are a second unit in the ledger
(:func:`broker.money.ledger.earn_points`): whole, never below zero, on the chain.

An earning is paid once per source (``source_ref``: a volunteer's service record, a
caseworker's entry), however often it is sent; the household's points account is
locked first, so two earnings of one household at once read the month's cap in turn.
A household earns only with the family's consent to ``points``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from broker import audit
from broker.community import points_rules
from broker.money import ledger
from broker.platform import actor, periods
from broker.platform.errors import Conflict, Invalid, found
from broker.platform.scope import Principal
from broker.registry import consents
from broker.registry.households import get_household
from models import Account, Grid, Household, PointsEarning, Redemption
from models.base import utcnow

MAX_MINUTES = 24 * 60  # one source is one day's service at most


@dataclass(frozen=True)
class Earned:
    earning: PointsEarning
    created: bool


def community_of(session: Session, household: Household) -> str:
    """The community whose rules and shop a household uses (its grid's)."""
    return found(session.get(Grid, household.grid_id), "grid").community


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def _check(activity: str, minutes: int, source_ref: str, served_at: datetime | None) -> None:
    problems: dict[str, list[str]] = {}
    if served_at is not None and not EARLIEST <= served_at <= utcnow() + timedelta(days=1):
        problems["served_at"] = ["a time from 2000 until today"]
    if activity not in points_rules.ACTIVITIES:
        problems["activity"] = [f"one of {', '.join(points_rules.ACTIVITIES)}"]
    if type(minutes) is not int or not 0 < minutes <= MAX_MINUTES:
        problems["minutes"] = [f"a whole number from 1 to {MAX_MINUTES}"]
    if not source_ref.strip() or len(source_ref) > 120:
        problems["source_ref"] = ["1 to 120 characters"]
    if problems:
        raise Invalid("Check the volunteer hours: " + ", ".join(problems) + ".", details=problems)


def _existing(session: Session, source_ref: str, household_id: int) -> PointsEarning | None:
    earning = session.execute(select(PointsEarning).where(PointsEarning.source_ref == source_ref)).scalar_one_or_none()
    if earning is not None and earning.household_id != household_id:
        raise Conflict(
            "These hours were already counted for another household.",
            code="source_used",
            details={"source_ref": ["already counted for another household"]},
        )
    return earning


def earned_in_month(session: Session, household_id: int, month: str, activity: str) -> int:
    return session.execute(
        select(func.coalesce(func.sum(PointsEarning.points), 0)).where(
            PointsEarning.household_id == household_id,
            PointsEarning.month == month,
            PointsEarning.activity == activity,
        )
    ).scalar_one()


def earn(
    session: Session,
    household_id: int,
    *,
    activity: str,
    minutes: int,
    source_ref: str,
    served_at: datetime | None = None,
) -> Earned:
    """Credit the household for ``minutes`` of ``activity`` under its community's rule,
    once per ``source_ref`` (sent again: the first earning, ``created`` false). The
    rule's monthly cap may cut the points, to zero; the earning is recorded anyway."""
    _check(activity, minutes, source_ref, served_at)
    household = found(session.get(Household, household_id), "household")
    if (done := _existing(session, source_ref, household_id)) is not None:
        return Earned(done, False)
    if not consents.permits(session, household_id, "points"):
        raise Conflict(
            "The family has not agreed to take part in volunteer points: record its consent first.",
            code="no_points_consent",
        )
    community = community_of(session, household)
    rule = points_rules.rule_for(session, community, activity)
    if rule is None:
        raise Invalid(
            f"{community} has no points rule for this activity: an admin sets the community's rules.",
            code="no_points_rule",
            details={"activity": ["no rule in this community"]},
        )
    ledger.lock_points(session, household_id)  # earnings of one household, in turn
    if (done := _existing(session, source_ref, household_id)) is not None:
        return Earned(done, False)
    when = served_at or utcnow()
    month = periods.to_local(when).strftime("%Y-%m")
    points = minutes * rule.points_per_hour // 60
    capped = False
    if rule.monthly_cap is not None:
        room = max(rule.monthly_cap - earned_in_month(session, household_id, month, activity), 0)
        capped, points = points > room, min(points, room)
    earning = PointsEarning(
        household_id=household_id,
        community=community,
        activity=activity,
        minutes=minutes,
        points=points,
        capped=capped,
        month=month,
        served_on=when,
        source_ref=source_ref,
        actor=actor.current(),
    )
    try:
        with session.begin_nested():
            session.add(earning)
    except IntegrityError:  # the same source, counted meanwhile by another transaction
        return Earned(found(_existing(session, source_ref, household_id), "earning"), False)
    if points > 0:
        earning.transaction_id = ledger.earn_points(session, household_id, points, reference=source_ref).id
    audit.record(
        session,
        "points.earned",
        earning,
        household_id=household_id,
        after={"activity": activity, "minutes": minutes, "points": points, "capped": capped, "month": month},
    )
    return Earned(earning, True)


def earn_as(session: Session, principal: Principal, household_id: int, **hours: object) -> Earned:
    """:func:`earn`, by a caseworker of the household's grid or an admin."""
    get_household(session, principal, household_id, write=True)
    return earn(session, household_id, **hours)  # type: ignore[arg-type]


@dataclass(frozen=True)
class AccountView:
    household_id: int
    community: str
    balance: int
    earned: int
    redeemed: int
    consent: bool
    earnings: list[PointsEarning]
    redemptions: list[Redemption]


def account_view(session: Session, principal: Principal, household_id: int, *, recent: int = 20) -> AccountView:
    """The household's points: balance, totals, and its latest earnings and redemptions."""
    household = get_household(session, principal, household_id)
    earned = session.execute(
        select(func.coalesce(func.sum(PointsEarning.points), 0)).where(PointsEarning.household_id == household_id)
    ).scalar_one()
    redeemed = session.execute(
        select(func.coalesce(func.sum(Redemption.points), 0)).where(Redemption.household_id == household_id)
    ).scalar_one()
    balance = session.execute(
        select(Account.balance_fen).where(Account.key == f"points:{household_id}")
    ).scalar_one_or_none()
    return AccountView(
        household_id=household_id,
        community=community_of(session, household),
        balance=balance or 0,
        earned=earned,
        redeemed=redeemed,
        consent=consents.permits(session, household_id, "points"),
        earnings=list(
            session.execute(
                select(PointsEarning)
                .where(PointsEarning.household_id == household_id)
                .order_by(PointsEarning.created_at.desc(), PointsEarning.id.desc())
                .limit(recent)
            ).scalars()
        ),
        redemptions=list(
            session.execute(
                select(Redemption)
                .where(Redemption.household_id == household_id)
                .order_by(Redemption.created_at.desc(), Redemption.id.desc())
                .limit(recent)
            ).scalars()
        ),
    )
