"""Partners' funds as the partner, the admin and the offers see them: what a partner has
(``balances``), money paid into a fund (``record_deposit``) and the fund's history with
running balances (``fund_history``). Money moves through :mod:`.ledger`; this reads and
records, one partner at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from broker.money import restrictions
from broker.money.ledger import deposit
from broker.money.ledger_queries import TransactionView, check_kind, views
from broker.platform.errors import found
from broker.platform.pages import Page
from models import Account, Entry, LedgerTransaction, Partner


def balances(session: Session, partner_id: int) -> dict[str, int]:
    """``balance_fen`` (fund + pledged), ``pledged_fen`` and ``available_fen`` of a partner:
    the sums over its unrestricted and restricted parts (see :mod:`.fund_balances`)."""
    rows = dict(
        session.execute(
            select(Account.kind, func.sum(Account.balance_fen))
            .where(Account.partner_id == partner_id)
            .group_by(Account.kind)
        ).all()
    )
    fund, pledged = int(rows.get("fund") or 0), int(rows.get("pledged") or 0)
    return {"balance_fen": fund + pledged, "pledged_fen": pledged, "available_fen": fund}


# --- deposits into a fund ----------------------------------------------------------------


def _partner(session: Session, partner_id: int) -> Partner:
    partner = found(session.get(Partner, partner_id), "partner")
    return partner


def record_deposit(
    session: Session,
    partner_id: int,
    *,
    amount_fen: int,
    reference: str = "",
    donor: str = "",
    memo: str = "",
    restriction: dict | None = None,
) -> TransactionView:
    """A donation or grant paid into a partner's fund (an admin records it from the bank
    statement): into its unrestricted part, or — with the donor's ``restriction`` — into
    the part on those terms (see :mod:`.restrictions`). Returns the transaction as the
    ledger shows it."""
    partner = _partner(session, partner_id)
    part = restrictions.restriction_for(session, partner.id, restriction) if restriction else None
    txn = deposit(
        session,
        partner.id,
        partner.name,
        amount_fen,
        reference=reference.strip(),
        memo=memo.strip(),
        donor=donor.strip(),
        restriction_id=part.id if part is not None else None,
    )
    return views(session, [txn])[0]


# --- a fund's history ---------------------------------------------------------------------


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
    check_kind(kind)
    changes = (
        select(
            Entry.transaction_id.label("tid"),
            func.sum(case((Account.kind == "fund", Entry.amount_fen), else_=0)).label("fund"),
            func.sum(case((Account.kind == "pledged", Entry.amount_fen), else_=0)).label("pledged"),
        )
        .join(Account, Account.id == Entry.account_id)
        .where(Account.partner_id == partner_id, Account.kind.in_(("fund", "pledged")))
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
