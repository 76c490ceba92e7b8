"""Reconciliation for auditors: per partner and its fund, what was planned (accepted on
offers), paid (disbursed) and received (confirmed by the family) over a period of local
days — and how much is still unconfirmed past the partner's days for a receipt.

Planned counts offers accepted in the period; paid and received count disbursements
made in the period (received: those the family has confirmed, whenever it did). Each
partner has one fund account today (``fund:<partner id>``), so a row is both."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.money import accounts, exports
from broker.money.report_basis import period_filter
from broker.money.report_files import ExportFile
from broker.platform import texts
from broker.platform.texts import N_, define
from models import Account, AidRequest, Disbursement, Offer, Partner, Receipt
from models.base import utcnow

TAKEN = ("accepted", "in-progress", "completed")
define(
    {
        "reconciliation.title": N_("Reconciliation"),
        "reconciliation.fund": N_("Fund"),
        "reconciliation.planned": N_("Planned (yuan)"),
        "reconciliation.paid": N_("Paid (yuan)"),
        "reconciliation.paid_count": N_("Payments made"),
        "reconciliation.received": N_("Received (yuan)"),
        "reconciliation.received_count": N_("Confirmed by the family"),
        "reconciliation.unreceived": N_("Not yet confirmed (yuan)"),
        "reconciliation.overdue_count": N_("Unconfirmed past the days allowed"),
    }
)


@dataclass
class ReconRow:
    partner_id: int
    partner: str
    fund: str
    receipt_within_days: int
    planned_fen: int = 0
    paid_fen: int = 0
    paid_count: int = 0
    received_fen: int = 0
    received_count: int = 0
    overdue_count: int = 0

    @property
    def unreceived_fen(self) -> int:
        return self.paid_fen - self.received_fen


@dataclass
class Reconciliation:
    date_from: date | None
    date_to: date | None
    rows: list[ReconRow] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(r, name) for r in self.rows)

    @property
    def totals(self) -> dict[str, int]:
        names = ("planned_fen", "paid_fen", "paid_count", "received_fen", "received_count", "overdue_count")
        return {**{n: self.total(n) for n in names}, "unreceived_fen": self.total("unreceived_fen")}


def _offers_on(grids: frozenset[int] | None) -> list:
    """A scoped reader's offers: those for requests on its grids."""
    if grids is None:
        return []
    return [Offer.request_id.in_(select(AidRequest.id).where(AidRequest.grid_id.in_(sorted(grids) or [-1])))]


def _paid_on(grids: frozenset[int] | None) -> list:
    return [] if grids is None else [Disbursement.grid_id.in_(sorted(grids) or [-1])]


def reconciliation(
    session: Session,
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    now: datetime | None = None,
    grids: frozenset[int] | None = None,
) -> Reconciliation:
    """Planned vs paid vs received per partner (and its fund) over the local days
    ``date_from``..``date_to`` (inclusive; either open); partners with nothing in the
    period are left out. The fund's name is in the reader's language."""
    now = now or utcnow()
    funds = {
        pid: texts.render(accounts.label("fund", name)["code"], accounts.label("fund", name)["params"])
        for pid, name in session.execute(select(Account.partner_id, Account.name).where(Account.kind == "fund"))
    }
    rows: dict[int, ReconRow] = {}

    def row(pid: int, name: str, days: int) -> ReconRow:
        if pid not in rows:
            rows[pid] = ReconRow(pid, name, funds.get(pid, name), days)
        return rows[pid]

    planned = session.execute(
        select(Partner.id, Partner.name, Partner.receipt_within_days, func.sum(Offer.accepted_fen))
        .join(Offer, Offer.partner_id == Partner.id)
        .where(Offer.status.in_(TAKEN), period_filter(Offer.answered_at, date_from, date_to), *_offers_on(grids))
        .group_by(Partner.id, Partner.name, Partner.receipt_within_days)
    )
    for pid, name, days, amount in planned:
        row(pid, name, days).planned_fen = int(amount or 0)
    paid = session.execute(
        select(
            Partner.id,
            Partner.name,
            Partner.receipt_within_days,
            Disbursement.amount_fen,
            Disbursement.created_at,
            Receipt.id,
        )
        .join(Disbursement, Disbursement.partner_id == Partner.id)
        .outerjoin(Receipt, Receipt.disbursement_id == Disbursement.id)
        .where(period_filter(Disbursement.created_at, date_from, date_to), *_paid_on(grids))
    )
    for pid, name, days, amount, created_at, receipt_id in paid:
        r = row(pid, name, days)
        r.paid_fen += int(amount)
        r.paid_count += 1
        if receipt_id is not None:
            r.received_fen += int(amount)
            r.received_count += 1
        elif created_at + timedelta(days=days) <= now:
            r.overdue_count += 1
    ordered = sorted(rows.values(), key=lambda r: (-r.paid_fen, -r.planned_fen, r.partner))
    return Reconciliation(date_from, date_to, ordered)


COLUMNS = [
    exports.Column("partner", "export.partner", "text", 26),
    exports.Column("fund", "reconciliation.fund", "text", 26),
    exports.Column("planned_fen", "reconciliation.planned", "yuan", 14),
    exports.Column("paid_fen", "reconciliation.paid", "yuan", 14),
    exports.Column("paid_count", "reconciliation.paid_count", "int", 10),
    exports.Column("received_fen", "reconciliation.received", "yuan", 14),
    exports.Column("received_count", "reconciliation.received_count", "int", 12),
    exports.Column("unreceived_fen", "reconciliation.unreceived", "yuan", 16),
    exports.Column("overdue_count", "reconciliation.overdue_count", "int", 14),
]


def export_reconciliation(
    session: Session, date_from: date | None = None, date_to: date | None = None, grids: frozenset[int] | None = None
) -> ExportFile:
    """The reconciliation as an XLSX workbook (headers in the reader's language, yuan)."""
    report = reconciliation(session, date_from, date_to, grids=grids)
    rows = [{c.key: getattr(r, c.key) for c in COLUMNS} for r in report.rows]
    totals = {"partner": texts.render("export.total"), "fund": "", **report.totals}
    period = f"{date_from or 'all'}_{date_to or 'all'}"
    content = exports.to_xlsx(COLUMNS, rows, title="reconciliation.title", totals=totals)
    return ExportFile(exports.filename(f"reconciliation-{period}", "xlsx"), exports.XLSX_MIMETYPE, content)
