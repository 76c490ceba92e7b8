"""Who routing may ask for a request, and what each can carry: the candidates (active
partners serving the category and the household's grid, not already carrying or
considering the request, not having declined it, not ``manual``, and — for money — able
to promise something from the parts of its fund whose restriction fits the need), and
for every partner left out, the reason as a code with its parameters beside the English
words. See :mod:`broker.referral.routing` for the rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.money import grant_caps, restrictions
from broker.platform.amounts import yuan
from broker.referral import lifecycle
from broker.registry import region_tree
from broker.registry.region_tree import Served
from models import AidRequest, Grid, Offer, Partner

AUTO_GRANT = "auto_grant"
ALL_REGIONS = region_tree.ALL_REGIONS
# Whatever the figures, an offer never asks for less than this.
MIN_SHARE_FEN = 1
MANUAL = "manual"
# The latest offer's status that keeps a partner from being asked again, as a code.
NOT_AGAIN = {
    "requested": "waiting_answer",
    "received": "waiting_answer",
    "accepted": "carrying",
    "in-progress": "carrying",
    "rejected": "declined",
    "failed": "delivery_failed",
}


@dataclass
class Candidate:
    partner: Partner
    available_fen: int = 0  # the fund, less what is offered and not yet answered
    load: int = 0
    accepted: int = 0
    answered: int = 0
    capacity_fen: int | None = None  # None: not a money request
    auto_grant_fit: bool = False
    over_cap: dict | None = None  # the fund's cap, when this need would pass it
    restricted_fen: int = 0  # money restricted to other purposes (or expired): not offered
    parts: list[dict] = field(default_factory=list)  # the parts that fit, in draw order
    limit_note: str = ""
    served: Served | None = None  # how its regions reach the grid: the grid, a node above it, or *
    rank: int = 0
    reasons: list[dict] = field(default_factory=list)

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


def _stats(session: Session, partner_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per partner: money on unanswered offers, open offers, answers."""
    stats = {pid: {"offered": 0, "load": 0, "accepted": 0, "answered": 0} for pid in partner_ids}
    if not partner_ids:
        return stats
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


class Reads:
    """The reads candidate selection shares between requests: every partner, the region
    tree, their offer figures, and the money that fits a need. Each call reads the database as it is now;
    a batch of routings passes a cache instead (:mod:`broker.referral.route_batch`), so
    that a hundred requests do not read the same partners a hundred times."""

    def grid_code(self, session: Session, grid_id: int) -> str:
        return session.execute(select(Grid.code).where(Grid.id == grid_id)).scalar_one()

    def partners(self, session: Session) -> list[Partner]:
        return list(session.execute(select(Partner).order_by(Partner.id)).scalars())

    def tree(self, session: Session) -> region_tree.Tree:
        return region_tree.load(session)

    def county(self, session: Session, grid_id: int) -> str | None:
        """The grid's district or county (whose policy rules apply): a few point reads,
        not the whole tree, for a single routing."""
        return region_tree.county_of(session, session.get(Grid, grid_id))

    def stats(self, session: Session, partner_ids: list[int]) -> dict[int, dict[str, int]]:
        return _stats(session, partner_ids)

    def fitting_funds(
        self, session: Session, partner_ids: list[int], category: str, grid_code: str, tree: region_tree.Tree
    ) -> dict[int, restrictions.Fitting]:
        return restrictions.fitting_funds(session, partner_ids, category, grid_code, tree=tree)


DIRECT = Reads()


def out(p: Partner, code: str, reason: str, **params: object) -> dict:
    """An exclusion: the partner, the English reason, and its code with parameters."""
    return {"partner_id": p.id, "partner": p.name, "reason": reason, "code": code, "params": params}


def asked_before(req: AidRequest) -> dict[int, str]:
    """Partners not to ask again for ``req``, each with why (a code): its latest offer is
    waiting for an answer, taken on, declined, expired or undeliverable — or completed
    without the partner saying it can give more. Withdrawn offers do not count."""
    latest: dict[int, object] = {}
    for o in sorted(req.offers, key=lambda o: o.id or 0):
        latest[o.partner_id] = o
    out: dict[int, str] = {}
    for pid, o in latest.items():
        if o.status in NOT_AGAIN:
            out[pid] = NOT_AGAIN[o.status]
        elif o.status == "cancelled" and o.status_reason == lifecycle.EXPIRED:
            out[pid] = "expired"
        elif o.status == "completed" and not o.more_available:
            out[pid] = "completed"
    return out


def candidates(
    session: Session, req: AidRequest, grid_code: str, gap: int | None, reads: Reads = DIRECT
) -> tuple[list[Candidate], list[dict]]:
    """Every partner, either a candidate or excluded with the reason."""
    asked = asked_before(req)
    partners = reads.partners(session)
    tree = reads.tree(session)
    excluded: list[dict] = []
    eligible: list[Partner] = []
    served: dict[int, Served] = {}
    for p in partners:
        reach = region_tree.serves(tree, p.regions, grid_code)
        if not p.active:
            excluded.append(out(p, "inactive", "inactive"))
        elif req.category not in (p.categories or []):
            excluded.append(out(p, "category_not_served", "category not served", category=req.category))
        elif reach is None:
            excluded.append(out(p, "region_not_served", "region not served", grid=grid_code))
        elif p.id in asked:
            code = asked[p.id]
            reason = "completed its part and can give no more" if code == "completed" else "already asked"
            excluded.append(out(p, code, reason))
        elif p.adapter == MANUAL:
            excluded.append(out(p, "manual_referral", "referred to by hand only"))
        else:
            eligible.append(p)
            served[p.id] = reach
    stats = reads.stats(session, [p.id for p in eligible])
    money = reads.fitting_funds(session, [p.id for p in eligible], req.category, grid_code, tree)
    urgent_or_emergency = req.category == "emergency" or req.urgency == "critical"
    candidates: list[Candidate] = []
    for p in eligible:
        s, fit = stats[p.id], money[p.id]
        c = Candidate(
            partner=p,
            # only the money whose restriction fits this need; a SUM is Decimal on PostgreSQL
            available_fen=max(0, int(fit.fitting_fen - s["offered"])),
            load=s["load"],
            accepted=s["accepted"],
            answered=s["answered"],
            restricted_fen=fit.other_fen,
            parts=fit.parts or [],
            served=served[p.id],
        )
        if gap is not None:
            caps = [c.available_fen]
            if p.max_amount_fen is not None:
                caps.append(p.max_amount_fen)
            limit = auto_grant_limit(p)
            if limit is not None:
                caps.append(limit)
                c.auto_grant_fit = urgent_or_emergency and gap <= limit
                if c.auto_grant_fit:
                    c.over_cap = _over_cap(session, p, req, gap)
                    c.auto_grant_fit = c.over_cap is None
            c.capacity_fen = min(caps)
            if c.capacity_fen < MIN_SHARE_FEN:
                excluded.append(short(c, gap))
                continue
        candidates.append(c)
    return candidates, excluded


def _over_cap(session: Session, p: Partner, req: AidRequest, gap: int) -> dict | None:
    """The fund's per-household cap and what it already granted, when ``gap`` would pass it
    (the offer then goes to the fund's people rather than being paid at once)."""
    cap = grant_caps.cap_of(p.adapter_config)
    if cap is None:
        return None
    paid = grant_caps.received(session, p.id, req.household_id, cap)
    if paid + gap <= cap.cap_fen:
        return None
    return {"cap_fen": cap.cap_fen, "days": cap.period_days, "received_fen": paid}


def auto_grant_limit(p: Partner) -> int | None:
    if p.adapter != AUTO_GRANT:
        return None
    limit = (p.adapter_config or {}).get("limit_fen")
    return int(limit) if isinstance(limit, int) else None


def short(c: Candidate, needed: int) -> dict:
    """Why a candidate cannot carry ``needed``: whichever of its money, its per-request
    maximum or its auto-grant limit binds."""
    p = c.partner
    if c.available_fen == c.capacity_fen and c.restricted_fen > 0:
        return out(
            p,
            "restricted_funds",
            f"available for this need {yuan(c.available_fen)} < needed {yuan(needed)}; "
            f"{yuan(c.restricted_fen)} restricted to other purposes or expired",
            available_fen=c.available_fen,
            restricted_fen=c.restricted_fen,
            needed_fen=needed,
        )
    if c.available_fen == c.capacity_fen:
        code, what, param, binding = "short_of_funds", "available", "available_fen", c.available_fen
    elif p.max_amount_fen == c.capacity_fen:
        code, what, param, binding = "over_maximum", "per-request maximum", "maximum_fen", p.max_amount_fen
    else:
        code, what, param, binding = "over_auto_grant_limit", "auto-grant limit", "limit_fen", auto_grant_limit(p)
    return out(p, code, f"{what} {yuan(binding)} < needed {yuan(needed)}", **{param: binding, "needed_fen": needed})


def later(c: Candidate, code: str, why: str) -> dict:
    return out(c.partner, code, f"ranked {c.rank}: {why}", rank=c.rank)
