"""The reports as files: the disbursement report and the ledger (台账) as CSV or XLSX,
with Chinese headers and amounts in yuan, ready for download by the API and the portal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from broker.money import exports, ledger_queries
from broker.money.disbursement_totals import disbursement_report
from broker.money.exports import Column
from broker.money.ledger_queries import EVERYTHING, LedgerFilter
from broker.platform.errors import Invalid

FORMATS = ("json", "csv", "xlsx")
GROUP_HEADERS = {"partner": "合作方", "category": "类别", "grid": "网格", "month": "月份"}
KIND_LABELS = {"deposit": "入账", "pledge": "承诺", "release": "释放", "disbursement": "拨付"}


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


def export_disbursements(
    session: Session,
    group_by: str = "partner",
    date_from: date | None = None,
    date_to: date | None = None,
    fmt: str = "csv",
) -> ExportFile:
    """The disbursement report as a CSV or XLSX file, amounts in yuan."""
    report = disbursement_report(session, group_by, date_from, date_to)
    columns = [
        Column("label", GROUP_HEADERS[group_by], "text", 28),
        Column("count", "笔数", "int", 10),
        Column("amount_fen", "金额（元）", "yuan", 18),
    ]
    rows = [{"label": r.label, "count": r.count, "amount_fen": r.amount_fen} for r in report.rows]
    totals = {"label": "合计", "count": report.count, "amount_fen": report.amount_fen}
    period = f"{date_from or '…'}_{date_to or '…'}".replace("…", "all")
    return _file(f"disbursements-by-{group_by}-{period}", fmt, columns, rows, "拨付汇总", totals)


LEDGER_COLUMNS = [
    Column("id", "流水号", "int", 10),
    Column("created_at", "时间", "datetime", 20),
    Column("kind_label", "类型", "text", 8),
    Column("partner_name", "合作方", "text", 26),
    Column("household_id", "家庭编号", "int", 10),
    Column("request_id", "需求编号", "int", 10),
    Column("offer_id", "对接编号", "int", 10),
    Column("amount_fen", "金额（元）", "yuan", 16),
    Column("donor", "捐赠方", "text", 20),
    Column("reference", "凭证号", "text", 20),
    Column("memo", "备注", "text", 30),
    Column("actor", "经办", "text", 22),
]


def export_ledger(session: Session, where: LedgerFilter = EVERYTHING, *, fmt: str = "csv") -> ExportFile:
    """The ledger (台账), one line per transaction, oldest first, amounts in yuan."""
    rows = [
        {
            **{k: getattr(t, k) for k in ("id", "created_at", "partner_name", "household_id", "request_id")},
            **{k: getattr(t, k) for k in ("offer_id", "amount_fen", "donor", "reference", "memo", "actor")},
            "kind_label": KIND_LABELS.get(t.kind, t.kind),
        }
        for t in ledger_queries.iter_transactions(session, where)
    ]
    period = f"{where.date_from or 'all'}_{where.date_to or 'all'}"
    return _file(f"ledger-{period}", fmt, LEDGER_COLUMNS, rows, "台账", None)
