"""Possible duplicate benefits, for an auditor to review.

A household is helped in one category by *benefits*: each request is one benefit, however
many partners share it (a medical gap split between the federation and the Red Cross is
one benefit, not two), and each government benefit granted on an approved application is
one more (its policy names the category it pays for). A household and category is flagged
when

* ``beyond_need``: a request received more than it asked for;
* ``several_sources``: two benefits from different sources (another partner, or the
  government) lie within the window of each other;
* ``same_fund_again``: one partner paid two different requests within the window (the
  emergency grant released twice).

A disbursement reversed as recorded in error (红冲) is no benefit and counts nowhere.

Each flag carries its evidence: the payments (disbursement and request ids) and the
government benefits (application ids) it rests on. Two government benefits in one
category are not flagged: they are meant to stack (the minimum-living allowance and the
disability subsidies both pay living costs)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.money.report_basis import category_label, not_reversed
from broker.platform import runtime
from broker.platform.errors import Invalid
from broker.policy import catalogue
from models import AidRequest, Disbursement, Household, HouseholdBenefit, Partner

Key = tuple[int, str]
# A government benefit comes from an application when its source reads "application:<id>".
APPLICATION_SOURCE = "application:"


@dataclass(frozen=True)
class BenefitPayment:
    disbursement_id: int
    partner_id: int
    partner_name: str
    request_id: int
    amount_fen: int
    kind: str
    created_at: datetime


@dataclass(frozen=True)
class GovernmentBenefit:
    """A benefit the household receives on an approved application."""

    benefit_id: int
    application_id: int
    policy_code: str
    policy_name: str
    since: date


@dataclass(frozen=True)
class DuplicateBenefit:
    """One household and category that may have been helped twice, with the evidence."""

    household_id: int
    category: str
    category_label: str
    reasons: list[str]
    needed_fen: int | None
    disbursed_fen: int
    excess_fen: int
    partners: list[str]
    payments: list[BenefitPayment] = field(default_factory=list)
    government: list[GovernmentBenefit] = field(default_factory=list)


def duplicate_benefits(
    session: Session, window_days: int = 30, grids: frozenset[int] | None = None
) -> list[DuplicateBenefit]:
    """Households whose help in one category looks duplicated, for an auditor to review;
    ``grids`` keeps those of households on these grids (None: all)."""
    if not 1 <= window_days <= 3660:
        raise Invalid("window_days must be between 1 and 3660", details={"window_days": ["out of range"]})
    window = timedelta(days=window_days)
    excess = _paid_beyond_need(session)
    by_category = _policy_categories()
    government = _government_benefits(session, by_category)
    candidates = set(excess) | _several_requests(session) | _paid_beside_government(session, government)
    if grids is not None and candidates:
        on = set(
            session.execute(
                select(Household.id).where(
                    Household.id.in_({hid for hid, _cat in candidates}), Household.grid_id.in_(sorted(grids) or [-1])
                )
            ).scalars()
        )
        candidates = {key for key in candidates if key[0] in on}
    if not candidates:
        return []
    payments = _payments(session, candidates)
    needs = _needs(session, candidates)
    found = []
    for key in sorted(candidates):
        pays, gov = payments[key], government.get(key, [])
        reasons = _reasons(pays, gov, excess.get(key, 0), window)
        if not reasons:
            continue
        hid, cat = key
        found.append(
            DuplicateBenefit(
                household_id=hid,
                category=cat,
                category_label=category_label(cat),
                reasons=reasons,
                needed_fen=needs.get(key),
                disbursed_fen=sum(p.amount_fen for p in pays),
                excess_fen=excess.get(key, 0),
                partners=sorted({p.partner_name for p in pays}),
                payments=pays,
                government=gov,
            )
        )
    return found


def _reasons(pays: list[BenefitPayment], gov: list[GovernmentBenefit], excess: int, window: timedelta) -> list[str]:
    reasons = []
    if excess > 0:
        reasons.append("beyond_need")
    if _other_source_within(pays, gov, window):
        reasons.append("several_sources")
    if _same_partner_again_within(pays, window):
        reasons.append("same_fund_again")
    return reasons


def _pairs_within(pays: list[BenefitPayment], window: timedelta):
    """Every pair of payments on *different* requests that lie within ``window`` (time order)."""
    for i, p in enumerate(pays):
        for q in reversed(pays[:i]):
            if p.created_at - q.created_at > window:
                break
            if q.request_id != p.request_id:
                yield q, p


def _other_source_within(pays: list[BenefitPayment], gov: list[GovernmentBenefit], window: timedelta) -> bool:
    if any(q.partner_id != p.partner_id for q, p in _pairs_within(pays, window)):
        return True
    tz = ZoneInfo(runtime.settings()["TIMEZONE"])
    starts = [datetime.combine(g.since, time(), tz) for g in gov]
    return any(abs(p.created_at - start) <= window for p in pays for start in starts)


def _same_partner_again_within(pays: list[BenefitPayment], window: timedelta) -> bool:
    return any(q.partner_id == p.partner_id for q, p in _pairs_within(pays, window))


def _paid_beyond_need(session: Session) -> dict[Key, int]:
    per_request = (
        select(
            Disbursement.request_id.label("rid"),
            Disbursement.household_id.label("hid"),
            Disbursement.category.label("cat"),
            func.sum(Disbursement.amount_fen).label("paid"),
        )
        .where(not_reversed())
        .group_by(Disbursement.request_id, Disbursement.household_id, Disbursement.category)
        .subquery()
    )
    over = session.execute(
        select(per_request.c.hid, per_request.c.cat, per_request.c.paid, AidRequest.amount_fen)
        .join(AidRequest, AidRequest.id == per_request.c.rid)
        .where(AidRequest.amount_fen.is_not(None), per_request.c.paid > AidRequest.amount_fen)
    ).all()
    excess: dict[Key, int] = defaultdict(int)
    for r in over:
        excess[(r.hid, r.cat)] += int(r.paid) - int(r.amount_fen)
    return excess


def _several_requests(session: Session) -> set[Key]:
    """Households and categories paid on more than one request."""
    rows = session.execute(
        select(Disbursement.household_id, Disbursement.category)
        .where(not_reversed())
        .group_by(Disbursement.household_id, Disbursement.category)
        .having(func.count(func.distinct(Disbursement.request_id)) > 1)
    ).all()
    return {(r.household_id, r.category) for r in rows}


def _policy_categories() -> dict[str, tuple[str, str]]:
    """Policy code → (category, name) for the policies that name the category they pay for."""
    return {p.code: (p.category, p.name) for p in catalogue.current().all() if p.category}


def _government_benefits(session: Session, by_category: dict[str, tuple[str, str]]) -> dict[Key, list]:
    if not by_category:
        return {}
    rows = session.scalars(
        select(HouseholdBenefit)
        .where(
            HouseholdBenefit.policy_code.in_(by_category),
            HouseholdBenefit.source.startswith(APPLICATION_SOURCE),
            HouseholdBenefit.since.is_not(None),
        )
        .order_by(HouseholdBenefit.since, HouseholdBenefit.id)
    ).all()
    out: dict[Key, list] = defaultdict(list)
    for b in rows:
        category, name = by_category[b.policy_code]
        application_id = b.source.removeprefix(APPLICATION_SOURCE)
        if application_id.isdigit():
            out[(b.household_id, category)].append(
                GovernmentBenefit(b.id, int(application_id), b.policy_code, name, b.since)
            )
    return out


def _paid_beside_government(session: Session, government: dict[Key, list]) -> set[Key]:
    """Of the households and categories the government pays, those a partner paid too."""
    if not government:
        return set()
    households = {hid for hid, _ in government}
    rows = session.execute(
        select(Disbursement.household_id, Disbursement.category)
        .where(Disbursement.household_id.in_(households), not_reversed())
        .distinct()
    ).all()
    return {(r.household_id, r.category) for r in rows} & set(government)


def _payments(session: Session, keys: set[Key]) -> dict[Key, list[BenefitPayment]]:
    households = {hid for hid, _ in keys}
    out: dict[Key, list[BenefitPayment]] = defaultdict(list)
    rows = session.execute(
        select(Disbursement, Partner.name)
        .join(Partner, Partner.id == Disbursement.partner_id)
        .where(Disbursement.household_id.in_(households), not_reversed())
        .order_by(Disbursement.created_at, Disbursement.id)
    ).all()
    for d, name in rows:
        if (d.household_id, d.category) in keys:
            out[(d.household_id, d.category)].append(
                BenefitPayment(d.id, d.partner_id, name, d.request_id, d.amount_fen, d.kind, d.created_at)
            )
    return out


def _needs(session: Session, keys: set[Key]) -> dict[Key, int | None]:
    """What the paid requests asked for, per household and category (None if any of
    them had no amount: a service or goods without a price)."""
    households = {hid for hid, _ in keys}
    paid_requests = (
        select(Disbursement.request_id).where(Disbursement.household_id.in_(households), not_reversed()).distinct()
    )
    rows = session.execute(
        select(AidRequest.household_id, AidRequest.category, AidRequest.amount_fen).where(
            AidRequest.id.in_(paid_requests)
        )
    ).all()
    out: dict[Key, int | None] = {}
    for r in rows:
        k = (r.household_id, r.category)
        if k not in keys:
            continue
        if r.amount_fen is None or (k in out and out[k] is None):
            out[k] = None
        else:
            out[k] = out.get(k, 0) + r.amount_fen
    return out
