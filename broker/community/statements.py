"""A family's monthly points statement (积分对账单): the balance at the start of the
month, every point earned (what service, how long) and spent (which item), and the
balance at its end — read from the ledger, so it agrees with it by construction — as a
page, JSON or an XLSX file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.community.points import community_of
from broker.money import exports
from broker.money.exports import Column
from broker.money.report_files import ExportFile, export_file
from broker.platform import periods, texts
from broker.platform.errors import Invalid
from broker.platform.scope import Principal
from broker.platform.texts import N_, define
from broker.registry.households import get_household
from models import Account, Entry, LedgerTransaction, PointsEarning, Redemption, ShopItem
from models.base import utcnow

define(
    {
        "points.statement": N_("Volunteer points statement"),
        "points.line.earned": N_("%(activity)s, %(minutes)s minutes"),
        "points.line.earned_capped": N_("%(activity)s, %(minutes)s minutes (monthly cap reached)"),
        "points.line.redeemed": N_("%(item)s × %(quantity)s"),
        "points.export.what": N_("What"),
        "points.export.points": N_("Points"),
        "points.export.balance": N_("Balance"),
        "points.export.opening": N_("Balance at the start of the month"),
        "points.export.closing": N_("Balance at the end of the month"),
    }
)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Line:
    at: datetime
    kind: str  # points_earn | points_redeem
    points: int  # signed: + earned, − spent
    balance: int
    what: dict  # a text code with parameters


@dataclass(frozen=True)
class Statement:
    household_id: int
    community: str
    month: str
    opening: int
    closing: int
    earned: int
    redeemed: int
    lines: list[Line]


def parse_month(value: str | None) -> tuple[str, datetime, datetime]:
    """``YYYY-MM`` (default: this local month) and its UTC bounds ``[start, end)``."""
    if value is None:
        value = periods.to_local(utcnow()).strftime("%Y-%m")
    found = _MONTH.match(value)
    if not found or not 1 <= int(found.group(2)) <= 12 or not 2000 <= int(found.group(1)) <= 2100:
        raise Invalid("month must be YYYY-MM, e.g. 2026-11", details={"month": ["YYYY-MM"]})
    year, month = int(found.group(1)), int(found.group(2))
    start = periods.start_of_day(date(year, month, 1))
    end = periods.start_of_day(date(year + month // 12, month % 12 + 1, 1))
    return value, start, end


def _what(session: Session, txn: LedgerTransaction) -> dict:
    if txn.kind == "points_earn":
        e = session.execute(select(PointsEarning).where(PointsEarning.transaction_id == txn.id)).scalar_one()
        code = "points.line.earned_capped" if e.capped else "points.line.earned"
        activity = texts.render(f"points.activity.{e.activity}")
        return {"code": code, "params": {"activity": activity, "minutes": e.minutes}}
    r, name = session.execute(
        select(Redemption, ShopItem.name)
        .join(ShopItem, ShopItem.id == Redemption.item_id)
        .where(Redemption.transaction_id == txn.id)
    ).one()
    return {"code": "points.line.redeemed", "params": {"item": name, "quantity": r.quantity}}


def monthly(session: Session, principal: Principal, household_id: int, month: str | None = None) -> Statement:
    """The household's points in one local month, line by line with the running balance."""
    household = get_household(session, principal, household_id)
    month, start, end = parse_month(month)
    acct_id = session.execute(select(Account.id).where(Account.key == f"points:{household_id}")).scalar_one_or_none()
    opening, lines = 0, []
    if acct_id is not None:
        opening = session.execute(
            select(func.coalesce(func.sum(Entry.amount_fen), 0))
            .join(LedgerTransaction, LedgerTransaction.id == Entry.transaction_id)
            .where(Entry.account_id == acct_id, LedgerTransaction.created_at < start)
        ).scalar_one()
        rows = session.execute(
            select(LedgerTransaction, Entry.amount_fen)
            .join(Entry, Entry.transaction_id == LedgerTransaction.id)
            .where(Entry.account_id == acct_id)
            .where(LedgerTransaction.created_at >= start, LedgerTransaction.created_at < end)
            .order_by(LedgerTransaction.created_at, LedgerTransaction.id)
        ).all()
        balance = opening
        for txn, amount in rows:
            balance += amount
            lines.append(Line(txn.created_at, txn.kind, amount, balance, _what(session, txn)))
    return Statement(
        household_id=household_id,
        community=community_of(session, household),
        month=month,
        opening=opening,
        closing=lines[-1].balance if lines else opening,
        earned=sum(line.points for line in lines if line.points > 0),
        redeemed=-sum(line.points for line in lines if line.points < 0),
        lines=lines,
    )


COLUMNS = [
    Column("at", "export.time", "datetime", 20),
    Column("kind", "export.kind", "text", 12),
    Column("what", "points.export.what", "text", 36),
    Column("points", "points.export.points", "int", 10),
    Column("balance", "points.export.balance", "int", 10),
]


def statement_file(statement: Statement) -> ExportFile:
    """The statement as an XLSX sheet, in the reader's language, opening and closing
    balances as the first and last rows."""
    rows: list[dict] = [{"what": texts.render("points.export.opening"), "balance": statement.opening}]
    rows += [
        {
            "at": line.at,
            "kind": exports.said(f"ledger_kind.{line.kind}"),
            "what": texts.render(line.what["code"], line.what["params"]),
            "points": line.points,
            "balance": line.balance,
        }
        for line in statement.lines
    ]
    closing = {"what": texts.render("points.export.closing"), "balance": statement.closing}
    stem = f"points-household-{statement.household_id}-{statement.month}"
    return export_file(stem, "xlsx", COLUMNS, rows, "points.statement", closing)
