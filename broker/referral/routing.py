"""Routing: which partners are asked for a request, for how much, and why.

Deterministic and explainable: the same data always gives the same offers, and every
decision is stored — each offer carries its ``rank`` and ``reasons``, and the audit event
``request.routed`` names the partners chosen and every partner left out, with a reason.

**Candidates** (:mod:`broker.referral.candidates`) are active partners that serve the
request's category and the household's grid (``regions`` holds the grid code, or ``*``),
that are not already carrying or considering this request and have not declined it (a
partner that completed its part is asked again only when it said it can give more), that
take offers through an adapter (not ``manual``: those are referred to by hand), and —
when the request is for money — that can still promise something: the partner's
available fund (only its parts whose restriction fits the need's category and the
household's grid and has not expired: restricted funds), less what it has already been
offered and not yet answered, capped by its per-request maximum (and, for an auto-grant
fund, by its auto-grant limit).

**Rank**, first rule first, ties going to the next:

1. auto-grant funds first, for an emergency or critical need within their limit
   (they pay within minutes, with no human in the loop);
2. for critical and high urgency, the fastest channel (smallest ``respond_within_hours``);
3. the larger available balance;
4. the lower current load (offers the partner has open);
5. the higher acceptance rate, smoothed as (accepted + 1) / (answered + 2) so that a new
   partner starts at one half;
6. the lower partner id.

**Amount.** The best-ranked candidate that can carry the whole gap is offered all of it.
When none can, the gap is split: candidates in rank order are offered what they can
carry until it is covered. A service (no amount) is offered to one partner at a time.

**Policy before charity.** Before the candidates are asked, what a government policy is
expected to pay of a money need (when the household qualifies and its application is
not decided) is held back (:mod:`broker.referral.policy_holds`): charities are offered
only the rest, and the decision and each offer carry the reason. Restricted funds apply
as well: a partner is offered at most the money of its fund whose restriction fits the
need, so what charities are offered is the lesser of the policy's rest and the fitting
money; an offer's reasons name both, and so do the reasons of a need left unmatched.

**No candidate**, and no answer pending: the request is ``unmatched`` — it stays active
and goes back to its caseworkers, who are notified, with the reasons stored on it as
codes (``routing_reasons``); a request already partly covered is unmatched for the rest
(code ``short``). A job-support (``employment``) need nobody takes is handed to job
matching instead (code ``job_matching``): its caseworker is told to choose an opening or
a course, and placing the member completes the request. Rejections, expiries, failed
deliveries and partners completing under what they took on send the request back here for what is still uncovered.

Every exclusion carries a ``code`` and ``params`` (for the portal to say in the reader's
language) beside its English ``reason``."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker import audit
from broker.people import notify
from broker.platform import adapter_registry, inserts, outbox
from broker.platform.errors import Invalid
from broker.referral import delivery, lifecycle, policy_holds, wording
from broker.referral.candidates import (
    DIRECT,
    Candidate,
    Reads,
    auto_grant_limit,
    later,
    short,
)
from broker.referral.candidates import candidates as find_candidates
from broker.registry import consents
from models import AidRequest, Offer, Partner
from models.base import utcnow

log = logging.getLogger(__name__)
# A job-support need no partner takes is not a dead end: it goes to job matching (the
# openings and courses of the community package), where its caseworker picks one.
JOB_CATEGORY = "employment"


@dataclass
class Decision:
    """What one routing round decided."""

    request_id: int
    # routed: offers made; waiting: nobody new to ask, answers still pending; short: partly
    # covered and nobody left; unmatched: nobody at all; nothing: nothing was missing;
    # held: what was missing is all held for a government policy.
    outcome: str
    gap_fen: int | None = None
    chosen: list[dict] = field(default_factory=list)
    excluded: list[dict] = field(default_factory=list)
    offer_ids: list[int] = field(default_factory=list)
    # What is held back for government policies (policy before charity), as text codes.
    held: list[dict] = field(default_factory=list)


def _why(c: Candidate, req: AidRequest, grid_code: str, urgent: bool, total: int) -> list[dict]:
    """Why this partner is asked, as codes with parameters (see :mod:`.wording`)."""
    p = c.partner
    served, category = c.served, wording.category(req.category)
    if served is not None and served.kind not in ("grid", "all"):
        reasons = [wording.reason("routing.serves_region", category=category, region=served.name)]
    else:
        everywhere = served is not None and served.kind == "all"
        reasons = [
            wording.reason(
                "routing.serves_all_regions" if everywhere else "routing.serves", category=category, grid=grid_code
            )
        ]
    if c.auto_grant_fit:
        reasons.append(wording.reason("routing.auto_grant", limit_fen=auto_grant_limit(p)))
    elif c.over_cap:
        reasons.append(wording.reason("routing.over_cap", **c.over_cap))
    if urgent:
        urgency = wording.reason(f"urgency.{req.urgency}")
        reasons.append(wording.reason("routing.urgent", urgency=urgency, hours=p.respond_within_hours))
    if c.capacity_fen is not None:
        reasons.append(wording.reason("routing.available", available_fen=c.available_fen))
        if c.parts:
            parts = [wording.reason("routing.part", **part) for part in c.parts]
            reasons.append(wording.reason("routing.from_parts", parts=parts))
    reasons.append(wording.reason("routing.load", count=c.load))
    if c.answered:
        reasons.append(wording.reason("routing.accepts", accepted=c.accepted, answered=c.answered))
    else:
        reasons.append(wording.reason("routing.no_answers"))
    reasons.append(wording.reason("routing.rank", rank=c.rank, total=total))
    return reasons


def plan(
    session: Session, req: AidRequest, reads: Reads = DIRECT
) -> tuple[list[tuple[Candidate, int | None, dict]], Decision, list[str]]:
    """Decide, without changing anything, whom to ask for how much. Returns the picks
    (candidate, amount, why this amount), the decision record, and the reasons left out.
    ``reads`` is where the partners and their figures come from (a batch's cache)."""
    grid_code = reads.grid_code(session, req.grid_id)
    money = lifecycle.is_money(req)
    gap = lifecycle.gap_fen(req) if money else None
    decision = Decision(request_id=req.id, outcome="nothing", gap_fen=gap)
    candidates, excluded = find_candidates(session, req, grid_code, gap, reads)
    urgent = req.urgency in ("critical", "high")
    candidates.sort(key=lambda c: c.key(urgent))
    for i, c in enumerate(candidates, start=1):
        c.rank = i
        c.reasons = _why(c, req, grid_code, urgent, len(candidates))
    picks: list[tuple[Candidate, int | None, dict]] = []
    if not money:
        if candidates:
            picks.append((candidates[0], None, wording.reason("routing.one_at_a_time")))
            for c in candidates[1:]:
                excluded.append(later(c, "one_at_a_time", "a higher-ranked partner is asked first"))
    else:
        carriers = [c for c in candidates if c.capacity_fen >= gap]
        if carriers:
            best = carriers[0]
            picks.append((best, gap, wording.reason("routing.whole", amount_fen=gap)))
            for c in candidates:
                if c is best:
                    continue
                if c.capacity_fen < gap:
                    excluded.append(short(c, gap))
                else:
                    excluded.append(later(c, "carried_by_higher", "a higher-ranked partner carries the whole amount"))
        else:
            remaining = gap
            for c in candidates:
                if remaining <= 0:
                    excluded.append(later(c, "covered_by_higher", "the amount is covered by higher-ranked partners"))
                    continue
                share = min(c.capacity_fen, remaining)
                picks.append((c, share, wording.reason("routing.share", share_fen=share, gap_fen=gap)))
                remaining -= share
    decision.excluded = excluded
    reasons_out = [f"{e['partner']}: {e['reason']}" for e in excluded]
    return picks, decision, reasons_out


def route(
    session: Session,
    request_id: int,
    now: datetime | None = None,
    reads: Reads = DIRECT,
    locked: AidRequest | None = None,
) -> Decision:
    """One routing round for a request: make the offers it still needs, or — when no
    partner can take it — mark it unmatched with the reasons and tell its caseworkers.
    Does nothing for a request that needs nothing more (or is already unmatched), so it
    is safe to run twice. ``reads``: the partners and their figures, read once for a
    batch (:mod:`broker.referral.route_batch`) or, by default, now. ``locked``: the
    request, already locked in this transaction with its offers and policy holds as they
    are now (a batch locks its requests together); by default it is locked here."""
    now = now or utcnow()
    req = locked if locked is not None else lifecycle.lock_request(session, request_id)
    if not lifecycle.needs_routing(req):
        return Decision(request_id=req.id, outcome="nothing")
    held = policy_holds.hold(session, req, reads)
    if not lifecycle.needs_routing(req):  # a policy is expected to pay all that was missing
        decision = Decision(request_id=req.id, outcome="held", gap_fen=0, held=held)
        _record(session, req, decision)
        lifecycle.refresh_coverage(session, req)
        return decision
    picks, decision, reasons_out = plan(session, req, reads)
    decision.held = held
    if picks:
        made: list[Offer] = []
        for c, amount, why in picks:
            reasons = [*c.reasons, *held, why]
            offer = new_offer(session, req, c.partner, amount, now=now, rank=c.rank, reasons=reasons)
            made.append(offer)
            decision.offer_ids.append(offer.id)
            decision.chosen.append(
                {
                    "partner_id": c.partner.id,
                    "partner": c.partner.name,
                    "offer_id": offer.id,
                    "rank": c.rank,
                    "amount_fen": amount,
                    "reasons": offer.reasons,
                }
            )
        # Counted after the offers are written, so that the request is updated once.
        req.routing_round += 1
        decision.outcome = "routed"
        _record(session, req, decision)
        lifecycle.refresh_coverage(session, req)
        for offer in made:
            dispatch(session, req, offer)
        return decision
    has_help = req.funded_fen > 0 or any(o.status in (*lifecycle.LIVE, "completed") for o in req.offers)
    waiting = any(o.status in lifecycle.UNANSWERED for o in req.offers)
    if waiting:
        decision.outcome = "waiting"
        _record(session, req, decision)
        lifecycle.refresh_coverage(session, req)
        return decision
    decision.outcome = "short" if has_help else "unmatched"
    _record(session, req, decision)
    gap = lifecycle.gap_fen(req) if lifecycle.is_money(req) else None
    jobs = req.category == JOB_CATEGORY and not has_help
    if has_help:
        notified = notify.request_short(session, req, gap or 0, reasons_out)
    elif jobs:
        notified = notify.request_job_matching(session, req)
    else:
        notified = notify.request_failed(session, req, reasons_out)
    any_partner = session.execute(select(func.count()).select_from(Partner)).scalar_one() > 0
    code = "short" if has_help else ("none_could_take" if any_partner else "no_partner")
    if jobs:
        code = "job_matching"
    lifecycle.set_routing_state(
        session,
        req,
        lifecycle.UNMATCHED,
        action="unmatched",
        reasons={
            "code": code,
            "gap_fen": gap,
            "excluded": [{k: e.get(k) for k in ("partner_id", "partner", "code", "params")} for e in decision.excluded],
            # both rules at once: what a policy holds back, beside the partners whose
            # money fitting this need fell short of the rest
            **({"held": decision.held} if decision.held else {}),
        },
        details={"notified_user_ids": notified},
    )
    return decision


def new_offer(
    session: Session,
    req: AidRequest,
    partner: Partner,
    amount: int | None,
    *,
    now: datetime,
    rank: int,
    reasons: list[dict],
    details: dict | None = None,
) -> Offer:
    """Ask ``partner`` to take ``req`` on (for ``amount``, when money): the offer added,
    given its id and audited as ``offer.created``; the one way routing and a referral
    make an offer."""
    offer = inserts.insert_now(
        session,
        Offer(
            request_id=req.id,
            partner_id=partner.id,
            status="requested",
            amount_fen=amount,
            respond_by=now + timedelta(hours=partner.respond_within_hours),
            rank=rank,
            reasons=reasons,
        ),
    )
    req.offers.append(offer)
    audit.record(
        session,
        "offer.created",
        offer,
        after={
            "status": "requested",
            "partner_id": partner.id,
            "amount_fen": amount,
            "rank": rank,
            "respond_by": offer.respond_by.isoformat(),
            # Asked as the offer is made (and again as it is delivered): may this partner
            # learn the family's names?
            "names_shared": consents.permits(
                session, req.household_id, consents.SHARE_WITH_PARTNERS, partner_kind=partner.kind
            ),
        },
        details=details,
        household_id=req.household_id,
        request_id=req.id,
    )
    return offer


def dispatch(session: Session, req: AidRequest, offer: Offer) -> None:
    """Send an offer made in this transaction (of the locked ``req``) on its way: through
    an inline adapter at once, in this transaction; through any other in a
    ``deliver_offer`` job. An offer still waiting for the partner's answer gets its
    deadline."""
    if _inline(session.get(Partner, offer.partner_id).adapter):
        delivery.deliver_locked(session, offer, req, just_made=True)
    else:
        outbox.add(session, "deliver_offer", {"offer_id": offer.id, "attempt": 1}, queue_name="deliveries")
    if offer.status in lifecycle.UNANSWERED:
        outbox.add(session, "expire_offer", {"offer_id": offer.id}, due_at=offer.respond_by)


def _inline(adapter_name: str) -> bool:
    try:
        return adapter_registry.get(adapter_name).inline
    except Invalid:
        return False  # the delivery job fails the offer, saying the adapter is missing


def _record(session: Session, req: AidRequest, decision: Decision) -> None:
    audit.record(
        session,
        "request.routed",
        req,
        details={
            "round": req.routing_round,
            "outcome": decision.outcome,
            "gap_fen": decision.gap_fen,
            "chosen": decision.chosen,
            "excluded": decision.excluded,
            **({"held": decision.held} if decision.held else {}),
        },
        household_id=req.household_id,
        request_id=req.id,
    )


@outbox.handler("route_request")
def _route_handler(session: Session, payload: dict) -> None:
    decision = route(session, payload["request_id"])
    log.info("request %s routing: %s (offers %s)", decision.request_id, decision.outcome, decision.offer_ids)
