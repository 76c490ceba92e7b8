"""Money on an offer, part by part: the one way a pledge, a release, a disbursement and a
reversal move a partner's money.

A pledge draws only from the parts whose restriction fits the request (its category, the
household's grid, not expired): the restricted parts first, the first to expire first,
then the unrestricted part. What an offer holds is read back from the ledger (the net of
its transactions on each ``pledged`` account), so a disbursement pays out of exactly the
parts pledged on that offer — the first to expire first — a release gives back the rest
to the parts it came from, and a reversal returns a payment to the parts it was paid
from. Each move is one balanced transaction with a pair of legs per part.

Every move first locks all the partner's fund and pledged accounts in id order
(:func:`broker.money.ledger.lock_partner`), then reads the balances and chooses the parts:
two moves racing for one part are serialised, and the second sees what the first left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.money import ledger, restrictions
from broker.money.accounts import account, partner_accounts
from broker.money.ledger import Leg
from broker.platform.errors import Conflict, InsufficientFunds
from broker.platform.texts import N_, define, render
from models import Account, AidRequest, Entry, FundRestriction, Grid, LedgerTransaction, Offer, Partner

define(
    {
        "restricted_funds": N_(
            "%(partner)s has %(available_fen)s that may pay for this need (%(category)s on grid %(grid)s); "
            "%(restricted_fen)s more is restricted to other purposes or expired and cannot pay for it "
            "(%(amount_fen)s needed). Accept a smaller amount, or ask the admin to deposit money that may "
            "pay for this need."
        ),
        "restricted_funds_pledged": N_(
            "Money pledged on this offer from %(part)s may not pay for a %(category)s need on grid %(grid)s."
        ),
    }
)


class RestrictedFunds(Conflict):
    """The partner has the money, but donors restricted it to other purposes."""

    code = "restricted_funds"


@dataclass(frozen=True)
class Part:
    restriction: FundRestriction | None
    fund: Account
    pledged: Account


def locked_parts(session: Session, partner: Partner) -> list[Part]:
    """The partner's parts, locked, in the order money is drawn from them."""
    accts = ledger.lock_partner(session, partner.id, partner.name)
    terms = restrictions.of_accounts(session, accts)
    pairs: dict[int | None, dict[str, Account]] = {}
    for a in accts:
        pairs.setdefault(a.restriction_id, {})[a.kind] = a
    found: list[Part] = []
    for rid, pair in pairs.items():
        if len(pair) < 2:  # a half-made part (never by this code): complete it
            fund, pledged = partner_accounts(session, partner.id, partner.name, rid)
            pair = {"fund": fund, "pledged": pledged}
        found.append(Part(terms.get(rid) if rid is not None else None, pair["fund"], pair["pledged"]))
    return sorted(found, key=lambda p: restrictions.draw_order(p.restriction))


def _grid_code(session: Session, req: AidRequest) -> str:
    return session.execute(select(Grid.code).where(Grid.id == req.grid_id)).scalar_one()


def _ids(offer: Offer, req: AidRequest) -> dict[str, int]:
    return {"offer_id": offer.id, "request_id": req.id, "household_id": req.household_id}


def _held(session: Session, offer: Offer) -> dict[int, int]:
    """What the offer holds now, per ``pledged`` account id (the net of its transactions)."""
    rows = session.execute(
        select(Entry.account_id, func.sum(Entry.amount_fen))
        .join(LedgerTransaction, LedgerTransaction.id == Entry.transaction_id)
        .join(Account, Account.id == Entry.account_id)
        .where(LedgerTransaction.offer_id == offer.id, Account.kind == "pledged")
        .group_by(Entry.account_id)
    ).all()
    return {aid: int(total) for aid, total in rows if int(total or 0) > 0}


def pledge(
    session: Session, partner: Partner, offer: Offer, req: AidRequest, amount_fen: int, *, on: date | None = None
) -> LedgerTransaction:
    """Promise ``amount_fen`` on an accepted offer from the parts that fit its request.
    :class:`RestrictedFunds` when the partner has the money but not enough of it may pay
    for this need; :class:`InsufficientFunds` when it has not the money at all."""
    ledger.check_amount(amount_fen)
    on = on or restrictions.today()
    parts = locked_parts(session, partner)
    grid = _grid_code(session, req)
    tree = restrictions.tree_for(session, [p.restriction for p in parts])
    fitting = [p for p in parts if restrictions.fits(p.restriction, req.category, grid, on, tree)]
    available = sum(p.fund.balance_fen for p in fitting)
    if available < amount_fen:
        total = sum(p.fund.balance_fen for p in parts)
        if total >= amount_fen:
            params = {
                "partner": partner.name,
                "available_fen": available,
                "restricted_fen": total - available,
                "amount_fen": amount_fen,
                "category": {"code": f"category.{req.category}", "params": {}},
                "grid": grid,
            }
            raise RestrictedFunds(
                render("restricted_funds", params),
                details={**params, "text": {"code": "restricted_funds", "params": params}},
            )
        raise InsufficientFunds(
            f"Not enough money in {partner.name}'s fund: {available} fen there, {amount_fen} fen needed.",
            details={"available_fen": available, "balance_fen": available, "needed_fen": amount_fen},
        )
    legs: list[Leg] = []
    left = amount_fen
    for p in fitting:
        take = min(p.fund.balance_fen, left)
        if take > 0:
            legs += [Leg(p.fund, -take), Leg(p.pledged, take)]
            left -= take
    return ledger.post(session, "pledge", legs, amount_fen=amount_fen, partner_id=partner.id, **_ids(offer, req))


def release(
    session: Session,
    partner: Partner,
    offer: Offer,
    req: AidRequest,
    amount_fen: int,
    *,
    memo: str = "",
    reference: str = "",
) -> LedgerTransaction:
    """Give ``amount_fen`` of what the offer holds back to the parts it came from: the
    unrestricted part first, then the restricted ones, the last to expire first (so what
    stays pledged is the money that must be spent soonest)."""
    ledger.check_amount(amount_fen)
    parts = locked_parts(session, partner)
    held = _held(session, offer)
    legs: list[Leg] = []
    left = amount_fen
    for p in reversed(parts):
        take = min(held.get(p.pledged.id, 0), left)
        if take > 0:
            legs += [Leg(p.pledged, -take), Leg(p.fund, take)]
            left -= take
    if left > 0:
        raise InsufficientFunds(
            f"The offer holds {amount_fen - left} fen, not the {amount_fen} fen to release.",
            details={"balance_fen": amount_fen - left, "needed_fen": amount_fen},
        )
    return ledger.post(
        session,
        "release",
        legs,
        amount_fen=amount_fen,
        partner_id=partner.id,
        memo=memo,
        reference=reference,
        **_ids(offer, req),
    )


def disburse(
    session: Session, partner: Partner, offer: Offer, req: AidRequest, amount_fen: int, *, reference: str = ""
) -> LedgerTransaction:
    """Pay ``amount_fen`` to the household out of what the offer holds, the first part to
    expire first. Money pledged from a part that may not pay for this need (its category
    or grid) is refused with :class:`RestrictedFunds`; money pledged before its part
    expired may still be paid out."""
    ledger.check_amount(amount_fen)
    parts = locked_parts(session, partner)
    held = _held(session, offer)
    grid = _grid_code(session, req)
    tree = restrictions.tree_for(session, [p.restriction for p in parts])
    legs: list[Leg] = []
    left = amount_fen
    for p in parts:
        take = min(held.get(p.pledged.id, 0), left)
        if take <= 0:
            continue
        if not restrictions.fits(p.restriction, req.category, grid, date.min, tree):
            params = {
                "part": restrictions.describe(p.restriction),
                "category": {"code": f"category.{req.category}", "params": {}},
                "grid": grid,
            }
            raise RestrictedFunds(
                render("restricted_funds_pledged", params),
                details={"text": {"code": "restricted_funds_pledged", "params": params}},
            )
        legs.append(Leg(p.pledged, -take))
        left -= take
    if left > 0:
        raise InsufficientFunds(
            f"The offer holds {amount_fen - left} fen pledged, not the {amount_fen} fen to pay.",
            details={"balance_fen": amount_fen - left, "needed_fen": amount_fen},
        )
    legs.append(Leg(_household(session, req), amount_fen))
    return ledger.post(
        session,
        "disbursement",
        legs,
        amount_fen=amount_fen,
        partner_id=partner.id,
        reference=reference,
        **_ids(offer, req),
    )


def reverse(
    session: Session,
    partner: Partner,
    offer: Offer,
    req: AidRequest,
    original: LedgerTransaction,
    *,
    reference: str = "",
) -> LedgerTransaction:
    """Undo the disbursement ``original``: the household gives its amount back to the very
    parts it was paid from, pledged again on the offer (the original stays as it was)."""
    locked_parts(session, partner)
    paid_from = session.execute(
        select(Account, Entry.amount_fen)
        .join(Entry, Entry.account_id == Account.id)
        .where(Entry.transaction_id == original.id, Account.kind == "pledged")
        .order_by(Entry.id)
    ).all()
    legs = [Leg(_household(session, req), -original.amount_fen)]
    legs += [Leg(acct, -amount) for acct, amount in paid_from]
    return ledger.post(
        session,
        "reversal",
        legs,
        amount_fen=original.amount_fen,
        partner_id=partner.id,
        reference=reference,
        **_ids(offer, req),
    )


def _household(session: Session, req: AidRequest) -> Account:
    return account(session, "beneficiary", household_id=req.household_id, name=f"Household {req.household_id}")
