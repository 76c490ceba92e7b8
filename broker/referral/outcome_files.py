"""The reports on how the loop closes (:mod:`.outcome_reports`) as CSV or XLSX files,
headers in the reader's language, each row beside its figure of the previous period."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from broker.money import exports
from broker.money.exports import Column
from broker.money.report_basis import category_label
from broker.money.report_files import ExportFile
from broker.platform import texts
from broker.platform.errors import Invalid
from broker.platform.texts import N_, define
from broker.referral import outcome_reports

define(
    {
        "export.response_times": N_("Response time per partner"),
        "export.follow_up_outcomes": N_("Follow-up outcomes"),
        "export.offers": N_("Offers"),
        "export.answered": N_("Answered"),
        "export.median_answer_hours": N_("Median hours to answer"),
        "export.previous_median_answer_hours": N_("Median hours to answer, previous period"),
        "export.fulfilled": N_("Fulfilled"),
        "export.median_fulfilment_hours": N_("Median hours to fulfil"),
        "export.previous_median_fulfilment_hours": N_("Median hours to fulfil, previous period"),
        "export.follow_ups_recorded": N_("Visits recorded"),
        "export.need_met": N_("Need met"),
        "export.need_partly_met": N_("Partly met"),
        "export.need_not_met": N_("Not met"),
        "export.met_share_pct": N_("Share met (%%)"),
        "export.previous_met_share_pct": N_("Share met, previous period (%%)"),
        "export.mean_satisfaction": N_("Mean satisfaction (1-5)"),
        "export.previous_mean_satisfaction": N_("Mean satisfaction, previous period"),
        "export.all_categories": N_("All categories"),
    }
)

RESPONSE_COLUMNS = [
    Column("partner", "export.partner", "text", 26),
    Column("offers", "export.offers", "int", 10),
    Column("answered", "export.answered", "int", 10),
    Column("median_answer_hours", "export.median_answer_hours", "number", 16),
    Column("previous_median_answer_hours", "export.previous_median_answer_hours", "number", 22),
    Column("completed", "export.fulfilled", "int", 10),
    Column("median_fulfilment_hours", "export.median_fulfilment_hours", "number", 16),
    Column("previous_median_fulfilment_hours", "export.previous_median_fulfilment_hours", "number", 22),
]
OUTCOME_COLUMNS = [
    Column("category", "export.category", "text", 18),
    Column("recorded", "export.follow_ups_recorded", "int", 12),
    Column("met", "export.need_met", "int", 10),
    Column("partly", "export.need_partly_met", "int", 10),
    Column("not_met", "export.need_not_met", "int", 10),
    Column("met_share_pct", "export.met_share_pct", "number", 14),
    Column("previous_met_share_pct", "export.previous_met_share_pct", "number", 20),
    Column("mean_satisfaction", "export.mean_satisfaction", "number", 16),
    Column("previous_mean_satisfaction", "export.previous_mean_satisfaction", "number", 20),
]


def _file(stem: str, fmt: str, columns: list[Column], rows: list[dict], title: str, totals: dict) -> ExportFile:
    if fmt == "csv":
        return ExportFile(exports.filename(stem, "csv"), exports.CSV_MIMETYPE, exports.to_csv(columns, [*rows, totals]))
    if fmt == "xlsx":
        content = exports.to_xlsx(columns, rows, title=title, totals=totals)
        return ExportFile(exports.filename(stem, "xlsx"), exports.XLSX_MIMETYPE, content)
    raise Invalid("format must be json, csv or xlsx", details={"format": ["unknown format"]})


def _pct(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


def export_response_times(
    session: Session,
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    fmt: str = "csv",
    grids: frozenset[int] | None = None,
) -> ExportFile:
    """Response time per partner as a file, each partner beside its previous period."""
    report = outcome_reports.response_times(session, date_from, date_to, grids=grids)
    before = {r.partner_id: r for r in report.previous.rows}

    def line(row: outcome_reports.ResponseRow, earlier: outcome_reports.ResponseRow | None, name: str) -> dict:
        return {
            "partner": name,
            "offers": row.offers,
            "answered": row.answered,
            "median_answer_hours": row.median_answer_hours,
            "previous_median_answer_hours": earlier.median_answer_hours if earlier else None,
            "completed": row.completed,
            "median_fulfilment_hours": row.median_fulfilment_hours,
            "previous_median_fulfilment_hours": earlier.median_fulfilment_hours if earlier else None,
        }

    rows = [line(r, before.get(r.partner_id), r.partner) for r in report.current.rows]
    totals = line(report.current.overall, report.previous.overall, texts.render("export.total"))
    stem = f"response-times-{report.period.date_from}_{report.period.date_to}"
    return _file(stem, fmt, RESPONSE_COLUMNS, rows, "export.response_times", totals)


def export_follow_up_outcomes(
    session: Session,
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    fmt: str = "csv",
    grids: frozenset[int] | None = None,
) -> ExportFile:
    """Follow-up outcomes per category as a file, each beside its previous period."""
    report = outcome_reports.follow_up_outcomes(session, date_from, date_to, grids=grids)
    before = {r.category: r for r in report.previous.rows}

    def line(row: outcome_reports.OutcomeRow, earlier: outcome_reports.OutcomeRow | None, name: str) -> dict:
        return {
            "category": name,
            "recorded": row.recorded,
            "met": row.met,
            "partly": row.partly,
            "not_met": row.not_met,
            "met_share_pct": _pct(row.met_share),
            "previous_met_share_pct": _pct(earlier.met_share) if earlier else None,
            "mean_satisfaction": row.mean_satisfaction,
            "previous_mean_satisfaction": earlier.mean_satisfaction if earlier else None,
        }

    rows = [line(r, before.get(r.category), category_label(r.category)) for r in report.current.rows]
    totals = line(report.current.overall, report.previous.overall, texts.render("export.all_categories"))
    stem = f"follow-up-outcomes-{report.period.date_from}_{report.period.date_to}"
    return _file(stem, fmt, OUTCOME_COLUMNS, rows, "export.follow_up_outcomes", totals)
