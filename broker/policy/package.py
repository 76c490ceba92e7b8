"""A household's policy package (政策包): every government policy it qualifies for, why,
whether it already receives it or has an application on the way, and the documents
still missing — what the caseworker needs to file on the family's behalf (代办)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.platform.scope import Principal
from broker.policy import catalogue
from broker.policy.catalogue import Policy
from broker.policy.evaluation import Facts
from broker.policy.rules import Clause
from broker.registry import households
from models import Application, Household, HouseholdBenefit

READERS = ("caseworker", "admin", "auditor")
OPEN_STATUSES = ("documents-gathering", "submitted", "under-review")
# to_apply: qualifies, nothing filed; applied: an application is open; receives: already
# granted; closed: the last application was rejected or withdrawn.
STATES = ("to_apply", "applied", "closed", "receives")


@dataclass
class PackageEntry:
    """One policy in the package."""

    policy: Policy
    qualifies: bool
    why: list[Clause]
    state: str
    benefit: HouseholdBenefit | None
    application: Application | None
    documents: list[dict[str, Any]]
    missing_documents: list[str]
    office: str = ""  # where this household files: the department, or its street office

    def as_dict(self) -> dict[str, Any]:
        app = self.application
        return {
            "policy": self.policy.summary(),
            "office": self.office or self.policy.department,
            "qualifies": self.qualifies,
            "why": [c.as_dict() for c in self.why],
            "state": self.state,
            "receives": self.benefit is not None,
            "benefit": None
            if self.benefit is None
            else {
                "since": self.benefit.since.isoformat() if self.benefit.since else None,
                "source": self.benefit.source,
                "monthly_amount_fen": self.benefit.monthly_amount_fen,
            },
            "application": None
            if app is None
            else {
                "id": app.id,
                "status": app.status,
                "policy_version": app.policy_version,
                "deadline_at": app.deadline_at.isoformat() if app.deadline_at else None,
            },
            "documents": self.documents,
            "missing_documents": self.missing_documents,
        }


@dataclass
class NearMiss:
    """A policy the household misses by exactly one condition: worth a second look."""

    policy: Policy
    failed: list[Clause]

    def as_dict(self) -> dict[str, Any]:
        return {
            "policy": {"code": self.policy.code, "name": self.policy.name, "name_en": self.policy.name_en},
            "failed": [c.as_dict() for c in self.failed],
        }


@dataclass
class PolicyPackage:
    household_id: int
    items: list[PackageEntry] = field(default_factory=list)
    near_misses: list[NearMiss] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "household_id": self.household_id,
            "items": [e.as_dict() for e in self.items],
            "near_misses": [n.as_dict() for n in self.near_misses],
        }


def checklist(policy: Policy, application: Application | None) -> tuple[list[dict[str, Any]], list[str]]:
    """The policy's documents, each marked ticked or not on the application; and the
    codes still missing (all of them when nothing is filed yet)."""
    ticked = dict(application.documents or {}) if application is not None else {}
    docs = [{**d.as_dict(), "ticked": bool(ticked.get(d.code))} for d in policy.documents]
    return docs, [d["code"] for d in docs if not d["ticked"]]


# Key of ``session.info`` under which a transaction that changes no benefit (a batch of
# routings) keeps its households' benefits, read for them all at once.
BENEFITS_MEMO = "package.benefits_memo"


def benefits_of(session: Session, household_id: int) -> list[HouseholdBenefit]:
    """What the household receives, read from the database (not a possibly stale
    relationship collection), or from :data:`BENEFITS_MEMO`."""
    memo = session.info.get(BENEFITS_MEMO)
    if memo is not None and household_id in memo:
        return list(memo[household_id])
    return list(
        session.execute(select(HouseholdBenefit).where(HouseholdBenefit.household_id == household_id)).scalars()
    )


def benefits_by_household(session: Session, household_ids: list[int]) -> dict[int, list[HouseholdBenefit]]:
    """What each of these households receives (what :data:`BENEFITS_MEMO` holds)."""
    found: dict[int, list[HouseholdBenefit]] = {hid: [] for hid in household_ids}
    stmt = select(HouseholdBenefit).where(HouseholdBenefit.household_id.in_(household_ids))
    for benefit in session.execute(stmt).scalars():
        found[benefit.household_id].append(benefit)
    return found


def _latest_applications(session: Session, household_id: int) -> dict[str, Application]:
    """Per policy code, the open application if there is one, else the latest."""
    rows = session.execute(
        select(Application).where(Application.household_id == household_id).order_by(Application.id)
    ).scalars()
    latest: dict[str, Application] = {}
    for app in rows:
        current = latest.get(app.policy_code)
        if current is None or current.status not in OPEN_STATUSES:
            latest[app.policy_code] = app
    return latest


def package_for(session: Session, household: Household) -> PolicyPackage:
    """The package of a household already scope-checked by the caller."""
    benefits = {b.policy_code: b for b in benefits_of(session, household.id)}
    facts = Facts.of(household, benefits=list(benefits))
    applications = _latest_applications(session, household.id)
    package = PolicyPackage(household.id)
    for policy in catalogue.current().all():
        if not policy.serves(facts.county):
            continue  # another county's policy
        clauses = policy.explain(facts)
        qualifies = all(c.holds for c in clauses)
        benefit = benefits.get(policy.code)
        app = applications.get(policy.code)
        if benefit is not None or (app is not None and app.status == "approved"):
            state = "receives"
        elif app is not None and app.status in OPEN_STATUSES:
            state = "applied"
        elif qualifies:
            state = "to_apply"  # a rejected application stays visible; a new one starts a fresh checklist
        elif app is not None and app.status == "rejected":
            state = "closed"
        else:
            failed = [c for c in clauses if not c.holds]
            if len(failed) == 1 and app is None:
                package.near_misses.append(NearMiss(policy, failed))
            continue
        if app is not None and app.status == "withdrawn":
            app = None
        fresh = app is None or state == "to_apply"
        docs, missing = checklist(
            policy if fresh else catalogue.current().get(policy.code, app.policy_version), None if fresh else app
        )
        if state == "receives":
            missing = []  # nothing left to gather for a benefit already granted
        package.items.append(
            PackageEntry(policy, qualifies, clauses, state, benefit, app, docs, missing, policy.office(household.grid))
        )
    package.items.sort(key=lambda e: (STATES.index(e.state), e.policy.code))
    return package


def policy_package(session: Session, principal: Principal, household_id: int) -> PolicyPackage:
    """The policy package of one household: caseworkers of its grid, admins and
    auditors; partners never (403)."""
    principal.require(*READERS)
    household = households.get_household(session, principal, household_id)
    return package_for(session, household)
