"""The reports as files: the disbursement report and the ledger (台账) as CSV or XLSX,
with headers and labels in the reader's language (Chinese unless they chose English) and
amounts in yuan, ready for download by the API and the portal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from broker.money import exports, ledger_queries
from broker.money.disbursement_totals import disbursement_report
from broker.money.exports import Column
from broker.money.ledger_queries import EVERYTHING, LedgerFilter
from broker.platform import texts
from broker.platform.errors import Invalid
from broker.platform.texts import N_, define

FORMATS = ("json", "csv", "xlsx")
define(
    {
        "export.partner": N_("Partner"),
        "export.category": N_("Category"),
        "export.grid": N_("Grid"),
        "export.month": N_("Month"),
        "export.count": N_("Count"),
        "export.amount_yuan": N_("Amount (yuan)"),
        "export.total": N_("Total"),
        "export.disbursements": N_("Disbursement summary"),
        "export.ledger": N_("Ledger"),
        "export.transaction_no": N_("Transaction no."),
        "export.time": N_("Time"),
        "export.kind": N_("Kind"),
        "export.household_no": N_("Household no."),
        "export.request_no": N_("Request no."),
        "export.offer_no": N_("Offer no."),
        "export.donor": N_("Donor"),
        "export.voucher_no": N_("Voucher no."),
        "export.memo": N_("Memo"),
        "export.handled_by": N_("Handled by"),
        "ledger_kind.deposit": N_("Deposit"),
        "ledger_kind.pledge": N_("Pledge"),
        "ledger_kind.release": N_("Release"),
        "ledger_kind.disbursement": N_("Disbursement"),
        "ledger_kind.points_earn": N_("Points earned"),
        "ledger_kind.points_redeem": N_("Points redeemed"),
    }
)
GROUP_HEADERS = {g: f"export.{g}" for g in ("partner", "category", "grid", "month")}


@dataclass(frozen=True)
class ExportFile:
    filename: str
    mimetype: str
    content: bytes


def _file(stem: str, fmt: str, columns: list[Column], rows: list[dict], title: str, totals: dict | None) -> ExportFile:
    if fmt == "csv":
        data = exports.to_csv(columns, [*rows, totals] if totals else rows)
        return ExportFile(exports.filename(stem, "csv"), exports.CSV_MIMETYPE, data)
    if fmt == "xlsx":
        return ExportFile(
            exports.filename(stem, "xlsx"),
            exports.XLSX_MIMETYPE,
            exports.to_xlsx(columns, rows, title=title, totals=totals),
        )
    raise Invalid("format must be json, csv or xlsx", details={"format": ["unknown format"]})


def export_file(
    stem: str, fmt: str, columns: list[Column], rows: list[dict], title: str, totals: dict | None = None
) -> ExportFile:
    """Any table as a CSV or XLSX download (``fmt``), headers in the reader's language."""
    return _file(stem, fmt, columns, rows, title, totals)


def export_disbursements(
    session: Session,
    group_by: str = "partner",
    date_from: date | None = None,
    date_to: date | None = None,
    fmt: str = "csv",
    grids: frozenset[int] | None = None,
) -> ExportFile:
    """The disbursement report as a CSV or XLSX file, amounts in yuan (``grids``: a
    scoped reader's or a region's)."""
    report = disbursement_report(session, group_by, date_from, date_to, grids)
    columns = [
        Column("label", GROUP_HEADERS[group_by], "text", 28),
        Column("count", "export.count", "int", 10),
        Column("amount_fen", "export.amount_yuan", "yuan", 18),
    ]
    rows = [{"label": r.label, "count": r.count, "amount_fen": r.amount_fen} for r in report.rows]
    totals = {"label": texts.render("export.total"), "count": report.count, "amount_fen": report.amount_fen}
    period = f"{date_from or '…'}_{date_to or '…'}".replace("…", "all")
    return _file(f"disbursements-by-{group_by}-{period}", fmt, columns, rows, "export.disbursements", totals)


LEDGER_COLUMNS = [
    Column("id", "export.transaction_no", "int", 10),
    Column("created_at", "export.time", "datetime", 20),
    Column("kind_label", "export.kind", "text", 8),
    Column("partner_name", "export.partner", "text", 26),
    Column("household_id", "export.household_no", "int", 10),
    Column("request_id", "export.request_no", "int", 10),
    Column("offer_id", "export.offer_no", "int", 10),
    Column("amount_fen", "export.amount_yuan", "yuan", 16),
    Column("donor", "export.donor", "text", 20),
    Column("reference", "export.voucher_no", "text", 20),
    Column("memo", "export.memo", "text", 30),
    Column("actor", "export.handled_by", "text", 22),
]


def export_ledger(session: Session, where: LedgerFilter = EVERYTHING, *, fmt: str = "csv") -> ExportFile:
    """The ledger (台账), one line per transaction, oldest first, amounts in yuan."""
    rows = [
        {
            **{k: getattr(t, k) for k in ("id", "created_at", "partner_name", "household_id", "request_id")},
            **{k: getattr(t, k) for k in ("offer_id", "amount_fen", "donor", "reference", "memo")},
            "actor": _said(t.actor_name),
            "kind_label": exports.said(f"ledger_kind.{t.kind}"),
        }
        for t in ledger_queries.iter_transactions(session, where)
    ]
    period = f"{where.date_from or 'all'}_{where.date_to or 'all'}"
    return _file(f"ledger-{period}", fmt, LEDGER_COLUMNS, rows, "export.ledger", None)


def _said(value: dict | str | None) -> str:
    """An actor as :func:`actor.described` gives it: a code rendered, a user's name as it is."""
    if isinstance(value, dict):
        return texts.render(value["code"], value.get("params")) if value.get("code") else str(value.get("text", ""))
    return value or ""
