"""Routing: which partners are asked for a request, for how much, and why.

Deterministic and explainable: the same data always gives the same offers, and every
decision is stored — each offer carries its ``rank`` and ``reasons``, and the audit event
``request.routed`` names the partners chosen and every partner left out, with a reason.

**Candidates** are active partners that serve the request's category and the household's
grid (``regions`` holds the grid code, or ``*``), that have not been asked for this request
before, and — when the request is for money — that can still promise something: the
partner's available fund, less what it has already been offered and not yet answered,
capped by its per-request maximum (and, for an auto-grant fund, by its auto-grant limit).

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

**No candidate**: a request nobody has taken, with no answer pending, fails with the
reasons, and its caseworkers are notified; a request already partly covered stays in
progress and its caseworkers are told how much is still missing. Rejections, expiries and failed deliveries send the
request back here for what is still uncovered."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker import adapter_registry, audit, delivery, lifecycle, notify, outbox
from broker.amounts import yuan
from broker.errors import Invalid
from models import Account, AidRequest, Grid, Offer, Partner
from models.base import utcnow

log = logging.getLogger(__name__)
AUTO_GRANT = "auto_grant"
ALL_REGIONS = "*"
# Whatever the figures, an offer never asks for less than this.
MIN_SHARE_FEN = 1


@dataclass
class Candidate:
    partner: Partner
    available_fen: int = 0  # the fund, less what is offered and not yet answered
    load: int = 0
    accepted: int = 0
    answered: int = 0
    capacity_fen: int | None = None  # None: not a money request
    auto_grant_fit: bool = False
    limit_note: str = ""
    rank: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def acceptance(self) -> float:
        return (self.accepted + 1) / (self.answered + 2)

    def key(self, urgent: bool) -> tuple:
        return (
            0 if self.auto_grant_fit else 1,
            self.partner.respond_within_hours if urgent else 0,
            -self.available_fen if self.capacity_fen is not None else 0,
            self.load,
            -round(self.acceptance, 6),
            self.partner.id,
        )


@dataclass
class Decision:
    """What one routing round decided."""

    request_id: int
    # routed: offers made; waiting: nobody new to ask, answers still pending; short: partly
    # covered and nobody left; failed: nobody at all; nothing: nothing was missing.
    outcome: str
    gap_fen: int | None = None
    chosen: list[dict] = field(default_factory=list)
    excluded: list[dict] = field(default_factory=list)
    offer_ids: list[int] = field(default_factory=list)


def _serves(values: list, wanted: str) -> bool:
    return wanted in (values or []) or ALL_REGIONS in (values or [])


def _stats(session: Session, partner_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per partner: fund balance, money on unanswered offers, open offers, answers."""
    stats = {pid: {"balance": 0, "offered": 0, "load": 0, "accepted": 0, "answered": 0} for pid in partner_ids}
    if not partner_ids:
        return stats
    for pid, balance in session.execute(
        select(Account.partner_id, Account.balance_fen).where(
            Account.partner_id.in_(partner_ids), Account.kind == "fund"
        )
    ):
        stats[pid]["balance"] = balance
    rows = session.execute(
        select(Offer.partner_id, Offer.status, Offer.status_reason, func.count(), func.sum(Offer.amount_fen))
        .where(Offer.partner_id.in_(partner_ids))
        .group_by(Offer.partner_id, Offer.status, Offer.status_reason)
    )
    for pid, status, reason, count, amount in rows:
        s = stats[pid]
        if status in lifecycle.UNANSWERED:
            s["offered"] += amount or 0
        if status in lifecycle.LIVE:
            s["load"] += count
        if status in ("accepted", "in-progress", "completed"):
            s["accepted"] += count
            s["answered"] += count
        elif status == "rejected" or (status == "cancelled" and reason == lifecycle.EXPIRED):
            s["answered"] += count
    return stats


def _candidates(
    session: Session, req: AidRequest, grid_code: str, gap: int | None
) -> tuple[list[Candidate], list[dict]]:
    """Every partner, either a candidate or excluded with the reason."""
    asked = {o.partner_id for o in req.offers}
    partners = session.execute(select(Partner).order_by(Partner.id)).scalars().all()
    excluded: list[dict] = []
    eligible: list[Partner] = []
    for p in partners:
        reason = None
        if not p.active:
            reason = "inactive"
        elif req.category not in (p.categories or []):
            reason = "category not served"
        elif not _serves(p.regions, grid_code):
            reason = "region not served"
        elif p.id in asked:
            reason = "already asked"
        if reason:
            excluded.append({"partner_id": p.id, "partner": p.name, "reason": reason})
        else:
            eligible.append(p)
    stats = _stats(session, [p.id for p in eligible])
    urgent_or_emergency = req.category == "emergency" or req.urgency == "critical"
    candidates: list[Candidate] = []
    for p in eligible:
        s = stats[p.id]
        c = Candidate(
            partner=p,
            available_fen=max(0, s["balance"] - s["offered"]),
            load=s["load"],
            accepted=s["accepted"],
            answered=s["answered"],
        )
        if gap is not None:
            caps = [c.available_fen]
            if p.max_amount_fen is not None:
                caps.append(p.max_amount_fen)
            limit = _auto_grant_limit(p)
            if limit is not None:
                caps.append(limit)
                c.auto_grant_fit = urgent_or_emergency and gap <= limit
            c.capacity_fen = min(caps)
            if c.capacity_fen < MIN_SHARE_FEN:
                excluded.append({"partner_id": p.id, "partner": p.name, "reason": _short_reason(c, gap)})
                continue
        candidates.append(c)
    return candidates, excluded


def _auto_grant_limit(p: Partner) -> int | None:
    if p.adapter != AUTO_GRANT:
        return None
    limit = (p.adapter_config or {}).get("limit_fen")
    return int(limit) if isinstance(limit, int) else None


def _short_reason(c: Candidate, needed: int) -> str:
    """Why a candidate cannot carry ``needed``: whichever of its money, its per-request
    maximum or its auto-grant limit binds."""
    p = c.partner
    if c.available_fen == c.capacity_fen:
        return f"available {yuan(c.available_fen)} < needed {yuan(needed)}"
    if p.max_amount_fen == c.capacity_fen:
        return f"per-request maximum {yuan(p.max_amount_fen)} < needed {yuan(needed)}"
    return f"auto-grant limit {yuan(_auto_grant_limit(p))} < needed {yuan(needed)}"


def _why(c: Candidate, req: AidRequest, grid_code: str, urgent: bool, total: int) -> list[str]:
    p = c.partner
    reasons = [
        f"serves {req.category} in {grid_code}"
        + (" (all regions)" if ALL_REGIONS in (p.regions or []) and grid_code not in p.regions else "")
    ]
    if c.auto_grant_fit:
        reasons.append(f"auto-grant fund: within its limit of {yuan(_auto_grant_limit(p))}, paid at once")
    if urgent:
        reasons.append(f"{req.urgency} need: answers within {p.respond_within_hours} h")
    if c.capacity_fen is not None:
        reasons.append(f"available {yuan(c.available_fen)}")
    reasons.append(f"{c.load} open offer{'s' if c.load != 1 else ''}")
    reasons.append(f"accepts {c.accepted} of {c.answered} answered" if c.answered else "no answers yet")
    reasons.append(f"rank {c.rank} of {total}")
    return reasons


def plan(session: Session, req: AidRequest) -> tuple[list[tuple[Candidate, int | None, str]], Decision, list[str]]:
    """Decide, without changing anything, whom to ask for how much. Returns the picks
    (candidate, amount, why this amount), the decision record, and the reasons left out."""
    grid_code = session.execute(select(Grid.code).where(Grid.id == req.grid_id)).scalar_one()
    money = lifecycle.is_money(req)
    gap = lifecycle.gap_fen(req) if money else None
    decision = Decision(request_id=req.id, outcome="nothing", gap_fen=gap)
    candidates, excluded = _candidates(session, req, grid_code, gap)
    urgent = req.urgency in ("critical", "high")
    candidates.sort(key=lambda c: c.key(urgent))
    for i, c in enumerate(candidates, start=1):
        c.rank = i
        c.reasons = _why(c, req, grid_code, urgent, len(candidates))
    picks: list[tuple[Candidate, int | None, str]] = []
    if not money:
        if candidates:
            picks.append((candidates[0], None, "one partner is asked at a time for goods or a service"))
            for c in candidates[1:]:
                excluded.append(_later(c, "a higher-ranked partner is asked first"))
    else:
        carriers = [c for c in candidates if c.capacity_fen >= gap]
        if carriers:
            best = carriers[0]
            picks.append((best, gap, f"can carry the whole {yuan(gap)}"))
            for c in candidates:
                if c is best:
                    continue
                if c.capacity_fen < gap:
                    excluded.append(
                        {"partner_id": c.partner.id, "partner": c.partner.name, "reason": _short_reason(c, gap)}
                    )
                else:
                    excluded.append(_later(c, "a higher-ranked partner carries the whole amount"))
        else:
            remaining = gap
            for c in candidates:
                if remaining <= 0:
                    excluded.append(_later(c, "the amount is covered by higher-ranked partners"))
                    continue
                share = min(c.capacity_fen, remaining)
                picks.append(
                    (c, share, f"offered {yuan(share)} of the {yuan(gap)} gap: no single partner can carry it")
                )
                remaining -= share
    decision.excluded = excluded
    reasons_out = [f"{e['partner']}: {e['reason']}" for e in excluded]
    return picks, decision, reasons_out


def _later(c: Candidate, why: str) -> dict:
    return {"partner_id": c.partner.id, "partner": c.partner.name, "reason": f"ranked {c.rank}: {why}"}


def route(session: Session, request_id: int, now: datetime | None = None) -> Decision:
    """One routing round for a request: make the offers it still needs, or fail it (or
    tell its caseworkers it is short) when no partner can take it. Does nothing for a
    request that needs nothing more, so it is safe to run twice."""
    now = now or utcnow()
    req = lifecycle.lock_request(session, request_id)
    if not lifecycle.needs_routing(req):
        return Decision(request_id=req.id, outcome="nothing")
    picks, decision, reasons_out = plan(session, req)
    if picks:
        req.routing_round += 1
        made: list[Offer] = []
        for c, amount, why in picks:
            offer = Offer(
                partner_id=c.partner.id,
                status="requested",
                amount_fen=amount,
                respond_by=now + timedelta(hours=c.partner.respond_within_hours),
                rank=c.rank,
                reasons=[*c.reasons, why],
            )
            req.offers.append(offer)
            made.append(offer)
            session.flush()
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
            audit.record(
                session,
                "offer.created",
                offer,
                after={
                    "status": "requested",
                    "partner_id": c.partner.id,
                    "amount_fen": amount,
                    "rank": c.rank,
                    "respond_by": offer.respond_by.isoformat(),
                },
                household_id=req.household_id,
                request_id=req.id,
            )
        decision.outcome = "routed"
        _record(session, req, decision)
        for offer in made:
            dispatch(session, req, offer)
        return decision
    has_help = req.funded_fen > 0 or any(o.status in (*lifecycle.LIVE, "completed") for o in req.offers)
    if has_help:
        waiting = any(o.status in lifecycle.UNANSWERED for o in req.offers)
        decision.outcome = "waiting" if waiting else "short"
        _record(session, req, decision)
        if not waiting:
            notify.request_short(session, req, lifecycle.gap_fen(req), reasons_out)
        return decision
    decision.outcome = "failed"
    _record(session, req, decision)
    notified = notify.request_failed(session, req, reasons_out)
    message = "No partner could take this request: " + ("; ".join(reasons_out) or "no partner is set up") + "."
    lifecycle.set_request_status(
        session,
        req,
        "failed",
        action="failed",
        reason=message,
        details={"excluded": decision.excluded, "notified_user_ids": notified},
    )
    return decision


def dispatch(session: Session, req: AidRequest, offer: Offer) -> None:
    """Send a new offer (of the locked ``req``) on its way: through an inline adapter at
    once, in this transaction; through any other in a ``deliver_offer`` job. An offer
    still waiting for the partner's answer gets its deadline."""
    if _inline(session.get(Partner, offer.partner_id).adapter):
        delivery.deliver_locked(session, offer, req)
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
        },
        household_id=req.household_id,
        request_id=req.id,
    )


@outbox.handler("route_request")
def _route_handler(session: Session, payload: dict) -> None:
    decision = route(session, payload["request_id"])
    log.info("request %s routing: %s (offers %s)", decision.request_id, decision.outcome, decision.offer_ids)
