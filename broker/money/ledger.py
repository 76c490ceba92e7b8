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

Concurrency: on PostgreSQL the accounts are locked ``FOR UPDATE`` in id order and
re-read, so the balance checked is the committed one and no other writer can change it
before this transaction ends; on SQLite the same ``FOR UPDATE`` opens the write window
(``BEGIN IMMEDIATE`` on a fresh snapshot), so writers are serialised. Either way two
concurrent spends cannot both see the same money. The CHECK ``no_overdraft`` would
refuse the write if that reasoning ever failed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from broker import audit
from broker.platform import actor, periods
from broker.platform.errors import InsufficientFunds, Invalid, NotFound
from broker.platform.pages import Page
from models import Account, Entry, LedgerTransaction, Partner

EXTERNAL_NAME = "External (donors and the world outside)"
TRANSACTION_KINDS = ("deposit", "pledge", "release", "disbursement")
# One deposit at most 100 million yuan: a typo guard, not a business limit.
MAX_AMOUNT_FEN = 10_000_000_000


@dataclass(frozen=True)
class Leg:
    account: Account
    amount_fen: int


def _check_amount(amount_fen: Any) -> None:
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


def account(
    session: Session, kind: str, *, partner_id: int | None = None, household_id: int | None = None, name: str = ""
) -> Account:
    """Get or create the account of ``kind`` for a partner or household (race-safe: a
    concurrent creator makes our insert fail inside a savepoint, and we read theirs)."""
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
    donor: str = "",
) -> LedgerTransaction:
    """Write one balanced transaction and move the balances. Raises
    :class:`InsufficientFunds` when a non-external account would go below zero."""
    _check_amount(amount_fen)
    if kind not in TRANSACTION_KINDS:
        raise ValueError(f"unknown transaction kind {kind!r}")
    if sum(leg.amount_fen for leg in legs) != 0 or any(leg.amount_fen == 0 for leg in legs):
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


def partner_accounts(session: Session, partner_id: int, partner_name: str) -> tuple[Account, Account]:
    """The partner's ``fund`` and ``pledged`` accounts, created on first use."""
    fund = account(session, "fund", partner_id=partner_id, name=f"{partner_name} — fund")
    pledged = account(session, "pledged", partner_id=partner_id, name=f"{partner_name} — pledged")
    return fund, pledged


def deposit(
    session: Session,
    partner_id: int,
    partner_name: str,
    amount_fen: int,
    *,
    reference: str = "",
    memo: str = "",
    donor: str = "",
) -> LedgerTransaction:
    """Money arrives from outside into the partner's fund."""
    _check_amount(amount_fen)
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
        donor=donor,
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
    """Promise money on an accepted offer: it leaves what the fund can still offer."""
    _check_amount(amount_fen)
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
    """Give an unspent pledge back to the fund."""
    _check_amount(amount_fen)
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
    """Pay pledged money out to the household."""
    _check_amount(amount_fen)
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


# --- deposits into a fund ----------------------------------------------------------------


def _partner(session: Session, partner_id: int) -> Partner:
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound("No such partner.")
    return partner


def record_deposit(
    session: Session,
    partner_id: int,
    *,
    amount_fen: int,
    reference: str = "",
    donor: str = "",
    memo: str = "",
) -> TransactionView:
    """A donation or grant paid into a partner's fund (an admin records it from the bank
    statement). Returns the transaction as the ledger shows it."""
    partner = _partner(session, partner_id)
    txn = deposit(
        session,
        partner.id,
        partner.name,
        amount_fen,
        reference=reference.strip(),
        memo=memo.strip(),
        donor=donor.strip(),
    )
    return _views(session, [txn])[0]


# --- reading the ledger ------------------------------------------------------------------


@dataclass(frozen=True)
class EntryView:
    account_id: int
    account_key: str
    account_kind: str
    account_name: str
    amount_fen: int


@dataclass(frozen=True)
class TransactionView:
    """A transaction with its legs, as an auditor reads it (plain data, no ORM rows)."""

    id: int
    kind: str
    amount_fen: int
    partner_id: int | None
    partner_name: str | None
    household_id: int | None
    offer_id: int | None
    request_id: int | None
    reference: str
    donor: str
    memo: str
    actor: str
    created_at: datetime
    entries: list[EntryView] = field(default_factory=list)


def _views(session: Session, txns: list[LedgerTransaction]) -> list[TransactionView]:
    """Transactions with their entries and account names, in three queries in all."""
    if not txns:
        return []
    ids = [t.id for t in txns]
    entries: dict[int, list[EntryView]] = {i: [] for i in ids}
    rows = session.execute(
        select(Entry.transaction_id, Entry.account_id, Entry.amount_fen, Account.key, Account.kind, Account.name)
        .join(Account, Account.id == Entry.account_id)
        .where(Entry.transaction_id.in_(ids))
        .order_by(Entry.id)
    ).all()
    for r in rows:
        entries[r.transaction_id].append(EntryView(r.account_id, r.key, r.kind, r.name, r.amount_fen))
    partner_ids = {t.partner_id for t in txns if t.partner_id is not None}
    names = (
        dict(session.execute(select(Partner.id, Partner.name).where(Partner.id.in_(partner_ids))).all())
        if partner_ids
        else {}
    )
    return [
        TransactionView(
            id=t.id,
            kind=t.kind,
            amount_fen=t.amount_fen,
            partner_id=t.partner_id,
            partner_name=names.get(t.partner_id),
            household_id=t.household_id,
            offer_id=t.offer_id,
            request_id=t.request_id,
            reference=t.reference,
            donor=t.donor,
            memo=t.memo,
            actor=t.actor,
            created_at=t.created_at,
            entries=entries[t.id],
        )
        for t in txns
    ]


def _filtered(
    partner_id: int | None,
    household_id: int | None,
    kind: str | None,
    date_from: date | None,
    date_to: date | None,
) -> Select:
    start, end = periods.bounds(date_from, date_to)
    conds = []
    if partner_id is not None:
        conds.append(LedgerTransaction.partner_id == partner_id)
    if household_id is not None:
        conds.append(LedgerTransaction.household_id == household_id)
    if kind is not None:
        if kind not in TRANSACTION_KINDS:
            raise Invalid(f"kind must be one of {', '.join(TRANSACTION_KINDS)}", details={"kind": ["unknown kind"]})
        conds.append(LedgerTransaction.kind == kind)
    if start is not None:
        conds.append(LedgerTransaction.created_at >= start)
    if end is not None:
        conds.append(LedgerTransaction.created_at < end)
    return select(LedgerTransaction).where(and_(True, *conds))


def transactions(
    session: Session,
    *,
    partner_id: int | None = None,
    household_id: int | None = None,
    kind: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    page: int = 1,
    per_page: int = 50,
    newest_first: bool = True,
) -> Page:
    """One page of the ledger (台账), each transaction with its entries. Dates are local
    days (Asia/Shanghai), both inclusive."""
    stmt = _filtered(partner_id, household_id, kind, date_from, date_to)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    order = LedgerTransaction.id.desc() if newest_first else LedgerTransaction.id
    txns = session.execute(stmt.order_by(order).limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return Page(_views(session, list(txns)), page, per_page, total)


def iter_transactions(
    session: Session,
    *,
    partner_id: int | None = None,
    household_id: int | None = None,
    kind: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    batch: int = 2000,
) -> Iterator[TransactionView]:
    """Every matching transaction, oldest first, in batches (for exports: memory stays
    flat however long the ledger is)."""
    stmt = _filtered(partner_id, household_id, kind, date_from, date_to).order_by(LedgerTransaction.id)
    last = 0
    while True:
        txns = list(session.execute(stmt.where(LedgerTransaction.id > last).limit(batch)).scalars())
        if not txns:
            return
        yield from _views(session, txns)
        last = txns[-1].id
        session.expunge_all()


@dataclass(frozen=True)
class FundMovement:
    """One transaction of a partner, with what it did to the fund (available) and the
    pledged account, and both balances after it."""

    transaction_id: int
    kind: str
    amount_fen: int
    available_change_fen: int
    pledged_change_fen: int
    available_after_fen: int
    pledged_after_fen: int
    reference: str
    donor: str
    memo: str
    actor: str
    offer_id: int | None
    request_id: int | None
    household_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class FundHistory:
    partner_id: int
    partner_name: str
    balances: dict[str, int]
    movements: Page


def fund_history(
    session: Session, partner_id: int, *, kind: str | None = None, page: int = 1, per_page: int = 50
) -> FundHistory:
    """A partner's fund, newest first: deposits in, pledges out to accepted offers,
    releases back, disbursements out of the pledged money, with running balances
    (computed by a window over the whole history, so a filtered page still shows the
    true balance after each movement)."""
    partner = _partner(session, partner_id)
    if kind is not None and kind not in TRANSACTION_KINDS:
        raise Invalid(f"kind must be one of {', '.join(TRANSACTION_KINDS)}", details={"kind": ["unknown kind"]})
    fund_key, pledged_key = f"fund:{partner_id}", f"pledged:{partner_id}"
    changes = (
        select(
            Entry.transaction_id.label("tid"),
            func.sum(case((Account.key == fund_key, Entry.amount_fen), else_=0)).label("fund"),
            func.sum(case((Account.key == pledged_key, Entry.amount_fen), else_=0)).label("pledged"),
        )
        .join(Account, Account.id == Entry.account_id)
        .where(Account.key.in_((fund_key, pledged_key)))
        .group_by(Entry.transaction_id)
        .subquery()
    )
    running = (
        select(
            changes.c.tid,
            changes.c.fund,
            changes.c.pledged,
            func.sum(changes.c.fund).over(order_by=changes.c.tid).label("fund_after"),
            func.sum(changes.c.pledged).over(order_by=changes.c.tid).label("pledged_after"),
        )
    ).subquery()
    stmt = select(LedgerTransaction, running).join(running, running.c.tid == LedgerTransaction.id)
    if kind is not None:
        stmt = stmt.where(LedgerTransaction.kind == kind)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(
        stmt.order_by(LedgerTransaction.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    items = [
        FundMovement(
            transaction_id=t.id,
            kind=t.kind,
            amount_fen=t.amount_fen,
            available_change_fen=int(row.fund),
            pledged_change_fen=int(row.pledged),
            available_after_fen=int(row.fund_after),
            pledged_after_fen=int(row.pledged_after),
            reference=t.reference,
            donor=t.donor,
            memo=t.memo,
            actor=t.actor,
            offer_id=t.offer_id,
            request_id=t.request_id,
            household_id=t.household_id,
            created_at=t.created_at,
        )
        for row in rows
        for t in (row[0],)
    ]
    return FundHistory(partner.id, partner.name, balances(session, partner.id), Page(items, page, per_page, total))


# --- integrity -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerCheck:
    """The trial balance: what an auditor (or a test) checks the books against."""

    ok: bool
    transactions: int
    accounts: int
    unbalanced: list[int]
    mismatched: list[int]
    overdrawn: list[int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "transactions": self.transactions,
            "accounts": self.accounts,
            "unbalanced": self.unbalanced,
            "mismatched": self.mismatched,
            "overdrawn": self.overdrawn,
        }


def check(session: Session) -> LedgerCheck:
    """Every transaction balances (at least two legs summing to zero), every account's
    balance equals the sum of its entries, and no account but ``external`` is below zero."""
    per_txn = (
        select(Entry.transaction_id.label("tid"), func.sum(Entry.amount_fen).label("s"), func.count().label("n"))
        .group_by(Entry.transaction_id)
        .subquery()
    )
    unbalanced = session.execute(
        select(LedgerTransaction.id)
        .outerjoin(per_txn, per_txn.c.tid == LedgerTransaction.id)
        .where((func.coalesce(per_txn.c.s, 0) != 0) | (func.coalesce(per_txn.c.n, 0) < 2))
        .order_by(LedgerTransaction.id)
    ).scalars()
    per_account = (
        select(Entry.account_id.label("aid"), func.sum(Entry.amount_fen).label("s"))
        .group_by(Entry.account_id)
        .subquery()
    )
    mismatched = session.execute(
        select(Account.id)
        .outerjoin(per_account, per_account.c.aid == Account.id)
        .where(Account.balance_fen != func.coalesce(per_account.c.s, 0))
        .order_by(Account.id)
    ).scalars()
    overdrawn = session.execute(
        select(Account.id).where(Account.kind != "external", Account.balance_fen < 0).order_by(Account.id)
    ).scalars()
    u, m, o = list(unbalanced), list(mismatched), list(overdrawn)
    n_txn = session.execute(select(func.count()).select_from(LedgerTransaction)).scalar_one()
    n_acct = session.execute(select(func.count()).select_from(Account)).scalar_one()
    return LedgerCheck(not (u or m or o), n_txn, n_acct, u, m, o)
