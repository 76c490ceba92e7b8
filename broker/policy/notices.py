"""Public notices (公示) of government aid: approved applications are posted in their
community for a period (``NOTICE_DAYS``, 7 by default), so that neighbours may object.

Publishing a notice takes every approved application of the community's households not
yet on a notice, asking the family's consent to public notice at that moment
(:func:`broker.registry.consents.permits`); a family that did not agree is left off. An
entry keeps only what may be posted: the head's name masked (王**), the household's
size, the policy, the amount and its period. The notice carries a short code that leads
to the public concern page; a concern raised with it is linked to the notice, and one of
kind "objection" received during the period is an objection to it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker import audit
from broker.platform import runtime
from broker.platform.errors import Invalid, NotFound
from broker.platform.pages import Page, paginate
from broker.platform.scope import Principal
from broker.policy import catalogue
from broker.registry import consents
from models import Application, ApplicationStep, Concern, Grid, Household, HouseholdBenefit, Member, Notice, NoticeEntry

PUBLISHERS = ("caseworker", "admin")
READERS = ("caseworker", "auditor", "admin")
MAX_DAYS = 60
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class NoticeSummary:
    notice: Notice
    objections: int


def mask(name: str) -> str:
    """王** for 王小明: the surname and a star for every other character."""
    name = (name or "").strip()
    if not name:
        return "*"
    return name[0] + "*" * max(1, len(name) - 1)


def today() -> date:
    return datetime.now(ZoneInfo(runtime.settings()["TIMEZONE"])).date()


def communities(session: Session, principal: Principal) -> list[str]:
    """The communities the principal may post or read notices for."""
    stmt = select(Grid.community).distinct().order_by(Grid.community)
    if principal.grid_scope() is not None:
        stmt = stmt.where(Grid.id.in_(principal.grid_scope()))
    return [c for c in session.execute(stmt).scalars() if c]


def _require_community(session: Session, principal: Principal, community: str) -> None:
    if community not in communities(session, principal):
        raise NotFound("No such community among yours.")


def _posted_application_ids(session: Session) -> Any:
    return select(NoticeEntry.application_id)


def candidates(session: Session, community: str) -> list[tuple[Application, Household]]:
    """Approved applications of the community's active households not yet posted."""
    stmt = (
        select(Application, Household)
        .join(Household, Household.id == Application.household_id)
        .join(Grid, Grid.id == Household.grid_id)
        .where(
            Grid.community == community,
            Application.status == "approved",
            Household.state == "active",
            Application.id.not_in(_posted_application_ids(session)),
        )
        .order_by(Application.id)
    )
    return [(a, h) for a, h in session.execute(stmt).all()]


def _entry(session: Session, app: Application, household: Household) -> NoticeEntry:
    policy = catalogue.current().get(app.policy_code, app.policy_version)
    size = session.execute(
        select(func.count())
        .select_from(Member)
        .where(Member.household_id == household.id, Member.deceased_on.is_(None))
    ).scalar_one()
    monthly = session.execute(
        select(HouseholdBenefit.monthly_amount_fen).where(
            HouseholdBenefit.household_id == household.id, HouseholdBenefit.policy_code == app.policy_code
        )
    ).scalar_one_or_none()
    approved_at = session.execute(
        select(func.max(ApplicationStep.at)).where(
            ApplicationStep.application_id == app.id, ApplicationStep.status == "approved"
        )
    ).scalar_one_or_none()
    zone = ZoneInfo(runtime.settings()["TIMEZONE"])
    return NoticeEntry(
        household_id=household.id,
        application_id=app.id,
        masked_name=mask(household.head_name),
        household_size=int(size),
        policy_code=app.policy_code,
        policy_version=app.policy_version,
        amount_fen=monthly if monthly is not None else policy.benefit.get("amount_fen"),
        period=str(policy.benefit.get("period") or ""),
        approved_on=approved_at.astimezone(zone).date() if approved_at else None,
    )


def publish(
    session: Session, principal: Principal, community: str, *, days: int | None = None, starts_on: date | None = None
) -> Notice:
    """Post a notice of the community's approved applications not yet posted, for the
    families who agree to public notice. Nothing to post is a 422."""
    principal.require(*PUBLISHERS)
    _require_community(session, principal, community)
    days = int(days or runtime.settings()["NOTICE_DAYS"])
    if not 1 <= days <= MAX_DAYS:
        raise Invalid(f"A notice is posted for 1 to {MAX_DAYS} days.", details={"days": ["out of range"]})
    entries = [
        _entry(session, app, household)
        for app, household in candidates(session, community)
        if consents.permits(session, household.id, consents.PUBLIC_NOTICE)
    ]
    if not entries:
        raise Invalid(
            "No approved application in this community waits to be posted (or the families did not agree "
            "to public notice).",
            code="nothing_to_post",
            details={"community": ["nothing to post"]},
        )
    start = starts_on or today()
    notice = Notice(
        code="GS" + "".join(secrets.choice(_ALPHABET) for _ in range(6)),
        community=community,
        starts_on=start,
        ends_on=start + timedelta(days=days - 1),
        created_by_id=principal.user_id,
        entries=entries,
    )
    session.add(notice)
    session.flush()
    audit.record(
        session,
        "notice.published",
        notice,
        after={
            "code": notice.code,
            "community": community,
            "starts_on": notice.starts_on.isoformat(),
            "ends_on": notice.ends_on.isoformat(),
            "applications": [e.application_id for e in entries],
        },
    )
    return notice


def list_notices(
    session: Session, principal: Principal, community: str | None = None, *, page: int = 1, per_page: int = 50
) -> Page:
    """Notices of the principal's communities (or one of them), newest first."""
    principal.require(*READERS)
    stmt = select(Notice)
    if community:
        _require_community(session, principal, community)
        stmt = stmt.where(Notice.community == community)
    elif principal.role == "caseworker":
        stmt = stmt.where(Notice.community.in_(communities(session, principal)))
    return paginate(session, stmt.order_by(Notice.id.desc()), page, per_page)


def get_notice(session: Session, principal: Principal, notice_id: int) -> Notice:
    principal.require(*READERS)
    notice = session.get(Notice, notice_id)
    if notice is None or (principal.role == "caseworker" and notice.community not in communities(session, principal)):
        raise NotFound("No such notice.")
    return notice


def latest(session: Session, principal: Principal, community: str) -> Notice:
    """The community's most recent notice (404 if it has none)."""
    page = list_notices(session, principal, community, per_page=1)
    if not page.items:
        raise NotFound("This community has no public notice yet.")
    return page.items[0]


def objections(session: Session, notice: Notice) -> list[Concern]:
    """Objections raised against the notice during its period (local days)."""
    zone = ZoneInfo(runtime.settings()["TIMEZONE"])
    rows = session.execute(
        select(Concern).where(Concern.notice_id == notice.id, Concern.kind == "objection").order_by(Concern.id)
    ).scalars()
    return [c for c in rows if notice.starts_on <= c.created_at.astimezone(zone).date() <= notice.ends_on]


def state(notice: Notice, on: date | None = None) -> str:
    """``upcoming``, ``posted`` (within its period) or ``ended``."""
    on = on or today()
    if on < notice.starts_on:
        return "upcoming"
    return "posted" if on <= notice.ends_on else "ended"


def policy_name(entry: NoticeEntry, locale: str) -> str:
    """The policy's name in the reader's language (the catalogue's own words)."""
    try:
        policy = catalogue.current().get(entry.policy_code, entry.policy_version)
    except NotFound:
        return entry.policy_code
    return policy.name_en if locale == "en" and policy.name_en else policy.name
