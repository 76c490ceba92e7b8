"""The double-entry ledger.

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
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from broker import actor, audit
from broker.errors import InsufficientFunds, Invalid
from models import Account, Entry, LedgerTransaction

EXTERNAL_NAME = "External (donors and the world outside)"


@dataclass(frozen=True)
class Leg:
    account: Account
    amount_fen: int


def _lock(session: Session, accounts: list[Account]) -> None:
    """Re-read the accounts in id order, FOR UPDATE on PostgreSQL (SQLite's BEGIN
    IMMEDIATE already serialises writers): their balances are then current and ours."""
    stmt = (
        select(Account)
        .where(Account.id.in_(sorted({a.id for a in accounts})))
        .order_by(Account.id)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    session.execute(stmt).scalars().all()


def account(
    session: Session, kind: str, *, partner_id: int | None = None, household_id: int | None = None, name: str = ""
) -> Account:
    """Get or create the account of ``kind`` for a partner or household (race-safe)."""
    key = kind if kind == "external" else f"{kind}:{partner_id if partner_id is not None else household_id}"
    found = session.execute(select(Account).where(Account.key == key)).scalar_one_or_none()
    if found is not None:
        return found
    acct = Account(
        key=key, kind=kind, partner_id=partner_id, household_id=household_id, name=name or EXTERNAL_NAME, balance_fen=0
    )
    try:
        with session.begin_nested():
            session.add(acct)
    except IntegrityError:
        return session.execute(select(Account).where(Account.key == key)).scalar_one()
    return acct


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
) -> LedgerTransaction:
    """Write one balanced transaction and move the balances. Raises
    :class:`InsufficientFunds` when a non-external account would go below zero."""
    if amount_fen <= 0:
        raise Invalid("amount_fen must be a positive whole number of fen", details={"amount_fen": ["must be > 0"]})
    if sum(leg.amount_fen for leg in legs) != 0:
        raise ValueError("unbalanced transaction")
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
        memo=memo,
        actor=actor.current(),
    )
    session.add(txn)
    for leg in legs:
        leg.account.balance_fen = Account.balance_fen + leg.amount_fen
        txn.entries.append(Entry(account_id=leg.account.id, amount_fen=leg.amount_fen))
    try:
        session.flush()
    except IntegrityError as exc:  # the CHECK constraint: a concurrent writer got there first
        raise InsufficientFunds("Not enough money in the fund for this amount.") from exc
    for leg in legs:
        session.refresh(leg.account, ["balance_fen"])
    audit.record(
        session,
        f"ledger.{kind}",
        txn,
        household_id=household_id,
        request_id=request_id,
        after={
            "amount_fen": amount_fen,
            "partner_id": partner_id,
            "offer_id": offer_id,
            "reference": reference,
            "entries": [[leg.account.id, leg.amount_fen] for leg in legs],
        },
    )
    return txn


def partner_accounts(session: Session, partner_id: int, partner_name: str) -> tuple[Account, Account]:
    fund = account(session, "fund", partner_id=partner_id, name=f"{partner_name} — fund")
    pledged = account(session, "pledged", partner_id=partner_id, name=f"{partner_name} — pledged")
    return fund, pledged


def deposit(
    session: Session, partner_id: int, partner_name: str, amount_fen: int, *, reference: str = "", memo: str = ""
) -> LedgerTransaction:
    fund, _ = partner_accounts(session, partner_id, partner_name)
    ext = account(session, "external")
    return post(
        session,
        "deposit",
        [Leg(ext, -amount_fen), Leg(fund, amount_fen)],
        amount_fen=amount_fen,
        partner_id=partner_id,
        reference=reference,
        memo=memo,
    )


def pledge(
    session: Session,
    partner_id: int,
    partner_name: str,
    amount_fen: int,
    *,
    offer_id: int,
    request_id: int,
    household_id: int,
) -> LedgerTransaction:
    fund, pledged = partner_accounts(session, partner_id, partner_name)
    return post(
        session,
        "pledge",
        [Leg(fund, -amount_fen), Leg(pledged, amount_fen)],
        amount_fen=amount_fen,
        partner_id=partner_id,
        offer_id=offer_id,
        request_id=request_id,
        household_id=household_id,
    )


def release(
    session: Session,
    partner_id: int,
    partner_name: str,
    amount_fen: int,
    *,
    offer_id: int,
    request_id: int,
    household_id: int,
    memo: str = "",
) -> LedgerTransaction:
    fund, pledged = partner_accounts(session, partner_id, partner_name)
    return post(
        session,
        "release",
        [Leg(pledged, -amount_fen), Leg(fund, amount_fen)],
        amount_fen=amount_fen,
        partner_id=partner_id,
        offer_id=offer_id,
        request_id=request_id,
        household_id=household_id,
        memo=memo,
    )


def disburse(
    session: Session,
    partner_id: int,
    partner_name: str,
    amount_fen: int,
    *,
    offer_id: int,
    request_id: int,
    household_id: int,
    reference: str = "",
) -> LedgerTransaction:
    _, pledged = partner_accounts(session, partner_id, partner_name)
    benef = account(session, "beneficiary", household_id=household_id, name=f"Household {household_id}")
    return post(
        session,
        "disbursement",
        [Leg(pledged, -amount_fen), Leg(benef, amount_fen)],
        amount_fen=amount_fen,
        partner_id=partner_id,
        offer_id=offer_id,
        request_id=request_id,
        household_id=household_id,
        reference=reference,
    )


def balances(session: Session, partner_id: int) -> dict[str, int]:
    """``balance_fen`` (fund + pledged), ``pledged_fen`` and ``available_fen`` of a partner."""
    rows = dict(
        session.execute(select(Account.kind, Account.balance_fen).where(Account.partner_id == partner_id)).all()
    )
    fund, pledged = rows.get("fund", 0), rows.get("pledged", 0)
    return {"balance_fen": fund + pledged, "pledged_fen": pledged, "available_fen": fund}
