"""Reading the ledger: transactions with their entries as plain data, a page at a time
or all of them in batches for the exports, chosen by one :class:`LedgerFilter`
(partner, household, kind, local days) so that the API, the auditor's pages and the
exports filter alike; and the trial balance the books are checked against. Nothing here
writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from broker.money import accounts, restrictions
from broker.money.ledger import TRANSACTION_KINDS
from broker.platform import actor, periods
from broker.platform.errors import Invalid
from broker.platform.pages import Page
from models import Account, Entry, FundRestriction, Household, LedgerTransaction, Partner

# --- reading the ledger ------------------------------------------------------------------


@dataclass(frozen=True)
class EntryView:
    account_id: int
    account_key: str
    account_kind: str
    account_name: str
    amount_fen: int
    account_label: dict | None = None  # the name as a text code (see accounts.label)
    restriction_id: int | None = None  # the restricted part of a fund this entry is in


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
    actor_name: dict | str | None = None  # the actor as a text code (see actor.described)


def _adapter_actor(name: str) -> bool:
    return name.startswith("adapter:") and name.rsplit(":", 1)[1].isdigit()


def views(session: Session, txns: list[LedgerTransaction]) -> list[TransactionView]:
    """Transactions with their entries and account names, in three queries in all."""
    if not txns:
        return []
    ids = [t.id for t in txns]
    entries: dict[int, list[EntryView]] = {i: [] for i in ids}
    rows = session.execute(
        select(
            Entry.transaction_id,
            Entry.account_id,
            Entry.amount_fen,
            Account.key,
            Account.kind,
            Account.name,
            Account.household_id,
            Account.restriction_id,
        )
        .join(Account, Account.id == Entry.account_id)
        .where(Entry.transaction_id.in_(ids))
        .order_by(Entry.id)
    ).all()
    rids = {r.restriction_id for r in rows if r.restriction_id is not None}
    parts = (
        {x.id: x for x in session.execute(select(FundRestriction).where(FundRestriction.id.in_(rids))).scalars()}
        if rids
        else {}
    )
    for r in rows:
        part = restrictions.describe(parts[r.restriction_id]) if r.restriction_id is not None else None
        label = accounts.label(r.kind, r.name, r.household_id, part)
        entries[r.transaction_id].append(
            EntryView(r.account_id, r.key, r.kind, r.name, r.amount_fen, label, r.restriction_id)
        )
    partner_ids = {t.partner_id for t in txns if t.partner_id is not None}
    partner_ids |= {int(t.actor.rsplit(":", 1)[1]) for t in txns if _adapter_actor(t.actor)}
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
            actor_name=actor.described(t.actor, names),
        )
        for t in txns
    ]


def check_kind(kind: str | None) -> None:
    """Refuse a transaction kind the ledger does not know (``None`` means any kind)."""
    if kind is not None and kind not in TRANSACTION_KINDS:
        raise Invalid(f"kind must be one of {', '.join(TRANSACTION_KINDS)}", details={"kind": ["unknown kind"]})


@dataclass(frozen=True)
class LedgerFilter:
    """Which transactions: a partner's, a household's, of one kind, between two local
    days (Asia/Shanghai, both inclusive); ``None`` leaves that side open. ``grids``
    keeps a scoped reader to the money that reached households on its grids."""

    partner_id: int | None = None
    household_id: int | None = None
    kind: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    # A scoped reader's grids: only transactions for households on them (None: all).
    grids: frozenset[int] | None = None

    def statement(self) -> Select:
        """``SELECT`` the matching transactions (unordered). Raises :class:`Invalid` for an
        unknown kind or a period that runs backwards."""
        start, end = periods.bounds(self.date_from, self.date_to)
        conds = []
        if self.partner_id is not None:
            conds.append(LedgerTransaction.partner_id == self.partner_id)
        if self.household_id is not None:
            conds.append(LedgerTransaction.household_id == self.household_id)
        if self.grids is not None:
            on_grids = select(Household.id).where(Household.grid_id.in_(sorted(self.grids) or [-1]))
            conds.append(LedgerTransaction.household_id.in_(on_grids.scalar_subquery()))
        if self.kind is not None:
            check_kind(self.kind)
            conds.append(LedgerTransaction.kind == self.kind)
        if start is not None:
            conds.append(LedgerTransaction.created_at >= start)
        if end is not None:
            conds.append(LedgerTransaction.created_at < end)
        return select(LedgerTransaction).where(and_(True, *conds))


EVERYTHING = LedgerFilter()


def transactions(
    session: Session,
    where: LedgerFilter = EVERYTHING,
    *,
    page: int = 1,
    per_page: int = 50,
    newest_first: bool = True,
) -> Page:
    """One page of the ledger (台账), each transaction with its entries. Dates are local
    days (Asia/Shanghai), both inclusive."""
    stmt = where.statement()
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    order = LedgerTransaction.id.desc() if newest_first else LedgerTransaction.id
    txns = session.execute(stmt.order_by(order).limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return Page(views(session, list(txns)), page, per_page, total)


def iter_transactions(
    session: Session, where: LedgerFilter = EVERYTHING, *, batch: int = 2000
) -> Iterator[TransactionView]:
    """Every matching transaction, oldest first, in batches (for exports: memory stays
    flat however long the ledger is)."""
    stmt = where.statement().order_by(LedgerTransaction.id)
    last = 0
    while True:
        txns = list(session.execute(stmt.where(LedgerTransaction.id > last).limit(batch)).scalars())
        if not txns:
            return
        yield from views(session, txns)
        last = txns[-1].id
        session.expunge_all()


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
