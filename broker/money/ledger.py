"""The double-entry ledger: posting. Every money move is written here, as one balanced
transaction, and nowhere else.

Each partner has a ``fund`` account (money not yet promised) and a ``pledged`` account
(promised on accepted offers); each household a ``beneficiary`` account; donors sit
behind one ``external`` account, the only one allowed below zero. Every transaction's
entries sum to zero. Balances are kept on the account rows, changed only here, under
row locks taken in id order (so two transfers never deadlock), with a CHECK constraint
as the last line against overspend.

    deposit:       external  → fund
    pledge:        fund      → pledged       (an offer is accepted)
    release:       pledged   → fund          (an accepted offer is withdrawn or under-spent)
    disbursement:  pledged   → beneficiary   (the family has the money)
    reversal:      beneficiary → pledged     (a disbursement recorded in error, undone)

A partner's fund comes in parts — unrestricted, and one per restriction on donated money —
each with its own ``fund`` and ``pledged`` accounts; a pledge, release, disbursement or
reversal moves money part by part, with one pair of legs per part, in one transaction
(:mod:`.fund_parts` decides which parts; deposits are posted here).

Family volunteer points are a second unit (accounts of ``unit = 'point'``), never mixed
with money in one transaction; ``amount_fen`` then counts whole points:

    points_earn:   points:given  → points:<household>   (volunteer hours, by the rules)
    points_redeem: points:<household> → points:spent     (goods or a service from the shop)

Concurrency: on PostgreSQL the accounts are locked ``FOR UPDATE`` in id order and
re-read, so the balance checked is the committed one and no other writer can change it
before this transaction ends; on SQLite the same ``FOR UPDATE`` opens the write window
(``BEGIN IMMEDIATE`` on a fresh snapshot), so writers are serialised. Either way two
concurrent spends cannot both see the same money. The CHECK ``no_overdraft`` would
refuse the write if that reasoning ever failed.

The accounts themselves are made in :mod:`.accounts`; the ledger is read (pages, exports,
the trial balance) in :mod:`.ledger_queries`, and a partner's fund in :mod:`.funds`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from broker import audit
from broker.money.accounts import account, household_points, partner_accounts, points_given, points_spent
from broker.platform import actor
from broker.platform.errors import InsufficientFunds, Invalid
from models import Account, Entry, LedgerTransaction

TRANSACTION_KINDS = ("deposit", "pledge", "release", "disbursement", "reversal", "points_earn", "points_redeem")
POINTS_KINDS = ("points_earn", "points_redeem")
# One deposit at most 100 million yuan: a typo guard, not a business limit.
MAX_AMOUNT_FEN = 10_000_000_000


@dataclass(frozen=True)
class Leg:
    account: Account
    amount_fen: int


def check_amount(amount_fen: Any) -> None:
    """Whole positive fen only: a float or a bool is a bug at the caller, never rounded."""
    if type(amount_fen) is not int or amount_fen <= 0:
        raise Invalid(
            "amount_fen must be a positive whole number of fen",
            details={"amount_fen": ["must be a whole number > 0"]},
        )
    if amount_fen > MAX_AMOUNT_FEN:
        raise Invalid(
            f"amount_fen is larger than one transaction may be ({MAX_AMOUNT_FEN} fen)",
            details={"amount_fen": [f"must be ≤ {MAX_AMOUNT_FEN}"]},
        )


def _lock(session: Session, accounts: list[Account]) -> None:
    """Re-read the accounts in id order, FOR UPDATE (on SQLite: in the write window,
    which serialises writers): their balances are then current and ours."""
    stmt = (
        select(Account)
        .where(Account.id.in_(sorted({a.id for a in accounts})))
        .order_by(Account.id)
        .execution_options(populate_existing=True)
        .with_for_update()
    )
    session.execute(stmt).scalars().all()


def lock_partner(session: Session, partner_id: int, partner_name: str) -> list[Account]:
    """Lock every fund and pledged account of the partner — the unrestricted part and each
    restricted one — for the rest of the transaction (every pledge, release and payment
    of the partner waits on them), and return them in id order with current balances."""
    partner_accounts(session, partner_id, partner_name)
    stmt = (
        select(Account)
        .where(Account.partner_id == partner_id, Account.kind.in_(("fund", "pledged")))
        .order_by(Account.id)
        .execution_options(populate_existing=True)
        .with_for_update()
    )
    return list(session.execute(stmt).scalars())


def post(
    session: Session,
    kind: str,
    legs: list[Leg],
    *,
    amount_fen: int,
    partner_id: int | None = None,
    household_id: int | None = None,
    offer_id: int | None = None,
    request_id: int | None = None,
    reference: str = "",
    memo: str = "",
    donor: str = "",
) -> LedgerTransaction:
    """Write one balanced transaction and move the balances. Raises
    :class:`InsufficientFunds` when a non-external account would go below zero."""
    check_amount(amount_fen)
    if kind not in TRANSACTION_KINDS:
        raise ValueError(f"unknown transaction kind {kind!r}")
    if sum(leg.amount_fen for leg in legs) != 0 or any(leg.amount_fen == 0 for leg in legs):
        raise ValueError("unbalanced transaction")
    if len({leg.account.unit or "fen" for leg in legs}) != 1 or (kind in POINTS_KINDS) != (
        legs[0].account.unit == "point"
    ):
        raise ValueError("a transaction moves money or points, never both")
    _lock(session, [leg.account for leg in legs])
    for leg in legs:
        if leg.account.kind != "external" and leg.account.balance_fen + leg.amount_fen < 0:
            raise InsufficientFunds(
                f"Not enough money in {leg.account.name}: {leg.account.balance_fen} fen there, "
                f"{-leg.amount_fen} fen needed.",
                details={
                    "account_id": leg.account.id,
                    "balance_fen": leg.account.balance_fen,
                    "needed_fen": -leg.amount_fen,
                },
            )
    txn = LedgerTransaction(
        kind=kind,
        partner_id=partner_id,
        household_id=household_id,
        offer_id=offer_id,
        request_id=request_id,
        amount_fen=amount_fen,
        reference=reference,
        donor=donor,
        memo=memo,
        actor=actor.current(),
    )
    session.add(txn)
    for leg in legs:
        leg.account.balance_fen = Account.balance_fen + leg.amount_fen
        txn.entries.append(Entry(account_id=leg.account.id, amount_fen=leg.amount_fen))
    try:
        session.flush()
    except IntegrityError as exc:
        if "no_overdraft" in str(exc.orig):  # the CHECK: the last line held
            raise InsufficientFunds("Not enough money in the fund for this amount.") from exc
        raise
    for leg in legs:
        session.refresh(leg.account, ["balance_fen"])
    after: dict[str, Any] = {
        "amount_fen": amount_fen,
        "partner_id": partner_id,
        "offer_id": offer_id,
        "reference": reference,
        "entries": [[leg.account.id, leg.amount_fen] for leg in legs],
    }
    if donor:
        after["donor"] = donor
    if memo:
        after["memo"] = memo
    audit.record(session, f"ledger.{kind}", txn, household_id=household_id, request_id=request_id, after=after)
    return txn


def deposit(
    session: Session,
    partner_id: int,
    partner_name: str,
    amount_fen: int,
    *,
    reference: str = "",
    memo: str = "",
    donor: str = "",
    restriction_id: int | None = None,
) -> LedgerTransaction:
    """Money arrives from outside into the partner's fund: its unrestricted part, or the
    part under ``restriction_id``."""
    check_amount(amount_fen)
    fund, _ = partner_accounts(session, partner_id, partner_name, restriction_id)
    ext = account(session, "external")
    return post(
        session,
        "deposit",
        [Leg(ext, -amount_fen), Leg(fund, amount_fen)],
        amount_fen=amount_fen,
        partner_id=partner_id,
        reference=reference,
        memo=memo,
        donor=donor,
    )


def lock_points(session: Session, household_id: int) -> Account:
    """Lock the household's points account for the rest of the transaction: every earning
    and redemption of the household waits on it (so a monthly cap and a balance are read
    as they stand)."""
    acct = household_points(session, household_id)
    session.flush()
    _lock(session, [acct])
    return acct


def earn_points(session: Session, household_id: int, points: int, *, reference: str) -> LedgerTransaction:
    """Credit the household with points it earned (``reference``: the earning's source)."""
    return post(
        session,
        "points_earn",
        [Leg(points_given(session), -points), Leg(household_points(session, household_id), points)],
        amount_fen=points,
        household_id=household_id,
        reference=reference,
    )


def redeem_points(session: Session, household_id: int, points: int, *, reference: str) -> LedgerTransaction:
    """Spend the household's points in the shop; :class:`InsufficientFunds` when it has
    fewer than ``points`` (its account never goes below zero)."""
    return post(
        session,
        "points_redeem",
        [Leg(household_points(session, household_id), -points), Leg(points_spent(session), points)],
        amount_fen=points,
        household_id=household_id,
        reference=reference,
    )
