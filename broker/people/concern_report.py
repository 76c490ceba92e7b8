"""The report on the family's voice: concerns by kind — how many were received, closed,
closed within their deadline, escalated — and the time to close them (median days),
for a period of local days and the period of the same length just before it, so that
"answered 40 % faster than last month" is a number the auditor can check."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.money import exports
from broker.money.exports import Column
from broker.money.report_files import ExportFile
from broker.people.concerns import KINDS
from broker.platform import periods, texts
from broker.platform.texts import N_, define
from models import Concern
from models.base import utcnow

DEFAULT_DAYS = 30
define({"concern_report.all": N_("All kinds")})


@dataclass(frozen=True)
class KindRow:
    kind: str
    label: str
    received: int
    closed: int
    within_deadline: int
    escalated: int
    median_days: float | None


@dataclass(frozen=True)
class PeriodTotals:
    date_from: date
    date_to: date
    rows: list[KindRow]
    overall: KindRow


@dataclass(frozen=True)
class ConcernReport:
    current: PeriodTotals
    previous: PeriodTotals
    # How much faster concerns were closed than in the previous period, in percent
    # (negative: slower); None when either period closed none.
    faster_percent: float | None


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    values = sorted(values)
    mid = len(values) // 2
    value = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
    return round(value, 2)


def _row(kind: str, label: str, concerns: list[Concern]) -> KindRow:
    closed = [c for c in concerns if c.closed_at is not None]
    days = [(c.closed_at - c.created_at).total_seconds() / 86400 for c in closed]
    return KindRow(
        kind=kind,
        label=label,
        received=len(concerns),
        closed=len(closed),
        within_deadline=sum(1 for c in closed if c.closed_at <= c.deadline_at),
        escalated=sum(1 for c in concerns if c.escalated_at is not None),
        median_days=_median(days),
    )


def _totals(session: Session, date_from: date, date_to: date, grids: frozenset[int] | None) -> PeriodTotals:
    start, end = periods.bounds(date_from, date_to)
    stmt = select(Concern).where(Concern.created_at >= start, Concern.created_at < end)
    if grids is not None:  # a reader scoped to a region: the concerns of its grids
        stmt = stmt.where(Concern.grid_id.in_(sorted(grids) or [-1]))
    found = list(session.execute(stmt).scalars())
    rows = [
        _row(kind, texts.render(f"concern_kind.{kind}"), [c for c in found if c.kind == kind])
        for kind in KINDS
        if any(c.kind == kind for c in found)
    ]
    return PeriodTotals(date_from, date_to, rows, _row("all", texts.render("concern_report.all"), found))


def concern_report(
    session: Session, date_from: date | None = None, date_to: date | None = None, grids: frozenset[int] | None = None
) -> ConcernReport:
    """Concerns received in ``date_from``..``date_to`` (local days, both inclusive;
    default the last 30 days), and the same for the period of equal length before;
    ``grids`` keeps a scoped reader to the concerns of its grids."""
    date_to = date_to or periods.to_local(utcnow()).date()
    date_from = date_from or date_to - timedelta(days=DEFAULT_DAYS - 1)
    periods.bounds(date_from, date_to)  # a period running backwards is a 422
    length = (date_to - date_from).days + 1
    current = _totals(session, date_from, date_to, grids)
    previous = _totals(session, date_from - timedelta(days=length), date_from - timedelta(days=1), grids)
    now, before = current.overall.median_days, previous.overall.median_days
    faster = round(100 * (before - now) / before, 1) if now is not None and before else None
    return ConcernReport(current, previous, faster)


define(
    {
        "concern_report.title": N_("Concerns"),
        "concern_report.period": N_("Period"),
        "concern_report.kind": N_("Kind"),
        "concern_report.received": N_("Received"),
        "concern_report.closed": N_("Closed"),
        "concern_report.within_deadline": N_("Closed within deadline"),
        "concern_report.escalated": N_("Escalated"),
        "concern_report.median_days": N_("Median days to close"),
        "concern_report.current": N_("This period"),
        "concern_report.previous": N_("Previous period"),
    }
)
COLUMNS = [
    Column("period", "concern_report.period", "text", 24),
    Column("label", "concern_report.kind", "text", 22),
    Column("received", "concern_report.received", "int", 10),
    Column("closed", "concern_report.closed", "int", 10),
    Column("within_deadline", "concern_report.within_deadline", "int", 14),
    Column("escalated", "concern_report.escalated", "int", 10),
    Column("median_days", "concern_report.median_days", "number", 14),
]


def _file_rows(totals: PeriodTotals, which: str) -> list[dict]:
    period = f"{texts.render(which)} {totals.date_from.isoformat()}–{totals.date_to.isoformat()}"
    return [{"period": period, **asdict(row)} for row in [*totals.rows, totals.overall]]


def export_concern_report(
    session: Session,
    date_from: date | None = None,
    date_to: date | None = None,
    fmt: str = "csv",
    grids: frozenset[int] | None = None,
) -> ExportFile:
    """The report as CSV or XLSX: this period's rows, then the previous period's."""
    report = concern_report(session, date_from, date_to, grids)
    rows = _file_rows(report.current, "concern_report.current") + _file_rows(report.previous, "concern_report.previous")
    stem = f"concerns-{report.current.date_from.isoformat()}_{report.current.date_to.isoformat()}"
    if fmt == "xlsx":
        content = exports.to_xlsx(COLUMNS, rows, title="concern_report.title")
        return ExportFile(exports.filename(stem, "xlsx"), exports.XLSX_MIMETYPE, content)
    return ExportFile(exports.filename(stem, "csv"), exports.CSV_MIMETYPE, exports.to_csv(COLUMNS, rows))
