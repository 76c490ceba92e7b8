"""Possible duplicate benefits, for an auditor to review: a household and category paid
beyond what its requests asked, or paid by several partners within a window of days."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.money.report_basis import category_label
from broker.platform.errors import Invalid
from models import AidRequest, Disbursement, Partner


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
class DuplicateBenefit:
    """One household and category that may have been helped twice: paid beyond what its
    requests asked (``beyond_need``), or paid by several partners within the window
    (``several_partners``)."""

    household_id: int
    category: str
    category_label: str
    reasons: list[str]
    needed_fen: int | None
    disbursed_fen: int
    excess_fen: int
    partners: list[str]
    payments: list[BenefitPayment] = field(default_factory=list)


def duplicate_benefits(session: Session, window_days: int = 30) -> list[DuplicateBenefit]:
    """Households whose help in one category looks duplicated, for an auditor to review.

    * beyond need: a request with an amount received more than that amount (summed over
      its disbursements), or
    * several partners: two different partners paid the same household in the same
      category within ``window_days`` of each other.
    """
    if not 1 <= window_days <= 3660:
        raise Invalid("window_days must be between 1 and 3660", details={"window_days": ["out of range"]})
    window = timedelta(days=window_days)
    per_request = (
        select(
            Disbursement.request_id.label("rid"),
            Disbursement.household_id.label("hid"),
            Disbursement.category.label("cat"),
            func.sum(Disbursement.amount_fen).label("paid"),
        )
        .group_by(Disbursement.request_id, Disbursement.household_id, Disbursement.category)
        .subquery()
    )
    over = session.execute(
        select(per_request.c.hid, per_request.c.cat, per_request.c.paid, AidRequest.amount_fen)
        .join(AidRequest, AidRequest.id == per_request.c.rid)
        .where(AidRequest.amount_fen.is_not(None), per_request.c.paid > AidRequest.amount_fen)
    ).all()
    excess: dict[tuple[int, str], int] = defaultdict(int)
    for r in over:
        excess[(r.hid, r.cat)] += int(r.paid) - int(r.amount_fen)
    several = session.execute(
        select(Disbursement.household_id, Disbursement.category)
        .group_by(Disbursement.household_id, Disbursement.category)
        .having(func.count(func.distinct(Disbursement.partner_id)) > 1)
    ).all()
    candidates = set(excess) | {(r.household_id, r.category) for r in several}
    if not candidates:
        return []
    payments = _payments(session, candidates)
    needs = _needs(session, candidates)
    found = []
    for hid, cat in sorted(candidates):
        pays = payments[(hid, cat)]
        reasons = []
        if excess.get((hid, cat), 0) > 0:
            reasons.append("beyond_need")
        if _several_partners_within(pays, window):
            reasons.append("several_partners")
        if not reasons:
            continue
        found.append(
            DuplicateBenefit(
                household_id=hid,
                category=cat,
                category_label=category_label(cat),
                reasons=reasons,
                needed_fen=needs.get((hid, cat)),
                disbursed_fen=sum(p.amount_fen for p in pays),
                excess_fen=excess.get((hid, cat), 0),
                partners=sorted({p.partner_name for p in pays}),
                payments=pays,
            )
        )
    return found


def _several_partners_within(pays: list[BenefitPayment], window: timedelta) -> bool:
    """Whether two payments from different partners lie within ``window`` (time order)."""
    for i, p in enumerate(pays):
        for q in reversed(pays[:i]):
            if p.created_at - q.created_at > window:
                break
            if q.partner_id != p.partner_id:
                return True
    return False


def _payments(session: Session, keys: set[tuple[int, str]]) -> dict[tuple[int, str], list[BenefitPayment]]:
    households = {hid for hid, _ in keys}
    out: dict[tuple[int, str], list[BenefitPayment]] = defaultdict(list)
    rows = session.execute(
        select(Disbursement, Partner.name)
        .join(Partner, Partner.id == Disbursement.partner_id)
        .where(Disbursement.household_id.in_(households))
        .order_by(Disbursement.created_at, Disbursement.id)
    ).all()
    for d, name in rows:
        if (d.household_id, d.category) in keys:
            out[(d.household_id, d.category)].append(
                BenefitPayment(d.id, d.partner_id, name, d.request_id, d.amount_fen, d.kind, d.created_at)
            )
    return out


def _needs(session: Session, keys: set[tuple[int, str]]) -> dict[tuple[int, str], int | None]:
    """What the paid requests asked for, per household and category (None if any of
    them had no amount: a service or goods without a price)."""
    households = {hid for hid, _ in keys}
    paid_requests = select(Disbursement.request_id).where(Disbursement.household_id.in_(households)).distinct()
    rows = session.execute(
        select(AidRequest.household_id, AidRequest.category, AidRequest.amount_fen).where(
            AidRequest.id.in_(paid_requests)
        )
    ).all()
    out: dict[tuple[int, str], int | None] = {}
    for r in rows:
        k = (r.household_id, r.category)
        if k not in keys:
            continue
        if r.amount_fen is None or (k in out and out[k] is None):
            out[k] = None
        else:
            out[k] = out.get(k, 0) + r.amount_fen
    return out
