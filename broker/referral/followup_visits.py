"""Recording follow-up visits (回访) and finding the ones waiting: the caseworker writes
down whether the need is met (yes, partly, no), the family's satisfaction (1–5), notes,
and — in the same step — a new need, which becomes a new needs assessment (its request
routed as any other). Overdue visits (their day has passed, nothing recorded) head the
caseworker's home page and the coverage view."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker import audit
from broker.platform.errors import Conflict, Forbidden, Invalid, NotFound
from broker.platform.scope import Principal
from broker.referral import assessment
from broker.referral.followups import OPEN
from broker.registry import households, privacy
from broker.registry.access import require_registry, visible_grid_ids
from models import FollowUp, Grid, Household
from models.base import utcnow
from models.followups import NEED_MET

MAX_NOTES = 4000


def list_for_household(session: Session, principal: Principal, household_id: int) -> list[FollowUp]:
    """The household's follow-up visits, the open ones first (soonest due), then the
    recorded ones (latest first)."""
    household = households.get_household(session, principal, household_id)
    rows = session.execute(select(FollowUp).where(FollowUp.household_id == household.id)).scalars()
    open_ = sorted((f for f in rows if f.status in OPEN), key=lambda f: (f.due_at, f.id))
    done = session.execute(
        select(FollowUp)
        .where(FollowUp.household_id == household.id, FollowUp.status == "recorded")
        .order_by(FollowUp.recorded_at.desc(), FollowUp.id.desc())
    ).scalars()
    return [*open_, *done]


def get_follow_up(
    session: Session, principal: Principal, household_id: int, follow_up_id: int, *, write: bool = False
) -> FollowUp:
    """A follow-up of a household the principal may see (another household's reads as not found)."""
    household = households.get_household(session, principal, household_id, write=write)
    follow_up = session.get(FollowUp, follow_up_id)
    if follow_up is None or follow_up.household_id != household.id:
        raise NotFound("No such follow-up visit.")
    return follow_up


def _check(data: dict[str, Any]) -> None:
    """The rules the API schema also applies, for callers that are not the API."""
    if data.get("need_met") not in NEED_MET:
        raise Invalid("need_met must be yes, partly or no.", details={"need_met": ["must be yes, partly or no"]})
    satisfaction = data.get("satisfaction")
    if not isinstance(satisfaction, int) or isinstance(satisfaction, bool) or not 1 <= satisfaction <= 5:
        raise Invalid(
            "satisfaction is the family's score from 1 (not at all) to 5 (fully).",
            details={"satisfaction": ["must be a whole number from 1 to 5"]},
        )
    if len(data.get("notes") or "") > MAX_NOTES:
        raise Invalid(f"notes may be at most {MAX_NOTES} characters.", details={"notes": ["too long"]})


def record(
    session: Session, principal: Principal, household_id: int, follow_up_id: int, data: dict[str, Any]
) -> FollowUp:
    """Record a follow-up visit of a household on one's own grids: need met, satisfaction,
    notes, and optionally ``new_need`` (a need as an assessment takes it), which starts a
    new assessment in the same transaction. A visit is recorded once (409 after)."""
    if principal.role != "caseworker":
        raise Forbidden("Follow-up visits are recorded by the household's caseworkers.")
    follow_up = get_follow_up(session, principal, household_id, follow_up_id, write=True)
    follow_up = session.execute(
        select(FollowUp).where(FollowUp.id == follow_up.id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    if follow_up.status == "recorded":
        raise Conflict(
            "This follow-up visit is already recorded.",
            code="follow_up_recorded",
            details={"status": follow_up.status, "recorded_at": follow_up.recorded_at.isoformat()},
        )
    _check(data)
    notes = (data.get("notes") or "").strip()
    new_need = data.get("new_need")
    if new_need:
        summary = notes or "回访发现新需求"
        created = assessment.create_assessment(
            session,
            principal,
            follow_up.household_id,
            {"summary": summary, "needs": [new_need], "confirm_duplicate": bool(data.get("confirm_duplicate"))},
        )
        follow_up.new_assessment_id = created.id
    before = {"status": follow_up.status}
    follow_up.status = "recorded"
    follow_up.recorded_at = utcnow()
    follow_up.recorded_by_id = principal.user_id
    follow_up.need_met = data["need_met"]
    follow_up.satisfaction = data["satisfaction"]
    follow_up.notes = notes
    session.flush()
    audit.record(
        session,
        "follow_up.recorded",
        follow_up,
        before=before,
        after={
            "status": "recorded",
            "need_met": follow_up.need_met,
            "satisfaction": follow_up.satisfaction,
            "notes": privacy.redact(notes),
            "new_assessment_id": follow_up.new_assessment_id,
        },
        household_id=follow_up.household_id,
        request_id=follow_up.request_id,
    )
    return follow_up


def overdue(
    session: Session, principal: Principal, *, now: datetime | None = None, limit: int = 50
) -> list[tuple[FollowUp, Household]]:
    """Follow-up visits past their day and not recorded, in the principal's grids (all
    for auditors and admins), the longest overdue first."""
    require_registry(principal, write=False)
    stmt = (
        select(FollowUp, Household)
        .join(Household, Household.id == FollowUp.household_id)
        .where(FollowUp.status.in_(OPEN), FollowUp.due_at <= (now or utcnow()))
    )
    visible = visible_grid_ids(principal)
    if visible is not None:
        stmt = stmt.where(FollowUp.grid_id.in_(visible))
    stmt = stmt.order_by(FollowUp.due_at, FollowUp.id).limit(limit)
    return [(f, h) for f, h in session.execute(stmt).all()]


def overdue_by_grid(session: Session, principal: Principal, now: datetime | None = None) -> dict[str, int]:
    """How many follow-up visits are overdue on each grid the principal may see, by grid
    code (for the coverage view)."""
    require_registry(principal, write=False)
    stmt = (
        select(Grid.code, func.count())
        .join(FollowUp, FollowUp.grid_id == Grid.id)
        .where(FollowUp.status.in_(OPEN), FollowUp.due_at <= (now or utcnow()))
        .group_by(Grid.code)
    )
    visible = visible_grid_ids(principal)
    if visible is not None:
        stmt = stmt.where(Grid.id.in_(visible))
    return dict(session.execute(stmt).all())


VIEW_FIELDS = (
    "id",
    "household_id",
    "request_id",
    "category",
    "status",
    "due_at",
    "notified_at",
    "recorded_at",
    "recorded_by_id",
    "need_met",
    "satisfaction",
    "notes",
    "new_assessment_id",
)


def view(follow_up: FollowUp, now: datetime | None = None) -> dict[str, Any]:
    """A follow-up visit as the API shows it, with whether it is overdue."""
    return {
        **{name: getattr(follow_up, name) for name in VIEW_FIELDS},
        "overdue": follow_up.status in OPEN and follow_up.due_at <= (now or utcnow()),
    }
