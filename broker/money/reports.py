"""What auditors and the portal's charts read: disbursements grouped by partner,
category, grid or month; possible duplicate benefits; time to fulfilment; and the
ledger and reports as CSV/XLSX files.

Every function takes a session and plain arguments and returns plain data (dataclasses),
so that the API, the portal and the CLI share them. Reports are one GROUP BY each over
the ``disbursements`` table, whose grouping columns are copied there from the request
for exactly this reason; names are joined after aggregation."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, select
from sqlalchemy.orm import Session

from broker.money import exports, ledger_queries
from broker.money.exports import Column
from broker.money.ledger_queries import EVERYTHING, LedgerFilter
from broker.platform import periods
from broker.platform.errors import Invalid
from models import AidRequest, Disbursement, Grid, Partner

GROUPINGS = ("partner", "category", "grid", "month")
FORMATS = ("json", "csv", "xlsx")
CATEGORY_LABELS = {
    "living": "生活救助",
    "medical": "医疗援助",
    "schooling": "助学帮扶",
    "employment": "就业支持",
    "counselling": "心理慰藉",
    "emergency": "应急金",
    "in_kind": "实物帮扶",
}
GROUP_HEADERS = {"partner": "合作方", "category": "类别", "grid": "网格", "month": "月份"}
KIND_LABELS = {"deposit": "入账", "pledge": "承诺", "release": "释放", "disbursement": "拨付"}


# --- disbursements grouped -------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    key: str | int | None
    label: str
    count: int
    amount_fen: int


@dataclass(frozen=True)
class DisbursementReport:
    group_by: str
    date_from: date | None
    date_to: date | None
    rows: list[ReportRow]
    count: int
    amount_fen: int


def _month_key(session: Session) -> ColumnElement:
    """The disbursement's month in local time, computed by the database: the first of
    the month on PostgreSQL (date_trunc is much cheaper than to_char per row), ``YYYY-MM``
    on SQLite. :func:`_month_label` spells both ``YYYY-MM``."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("month", func.timezone(periods.zone_name(), Disbursement.created_at))
    return func.strftime("%Y-%m", Disbursement.created_at, f"{periods.utc_offset_hours():+.4f} hours")


def _month_label(key: Any) -> str:
    return key.strftime("%Y-%m") if isinstance(key, datetime) else str(key)


def _label(group_by: str, row: Any) -> str:
    """What a person reads for a group: the partner's or grid's name, the category's
    Chinese name, the month."""
    if group_by == "month":
        return _month_label(row.k)
    if group_by == "category":
        return CATEGORY_LABELS.get(row.k, row.k)
    return str(row.label or row.k)


def _period_filter(column: Any, date_from: date | None, date_to: date | None) -> ColumnElement:
    start, end = periods.bounds(date_from, date_to)
    conds = []
    if start is not None:
        conds.append(column >= start)
    if end is not None:
        conds.append(column < end)
    return and_(literal(True), *conds)


def disbursement_report(
    session: Session, group_by: str = "partner", date_from: date | None = None, date_to: date | None = None
) -> DisbursementReport:
    """Count and sum of disbursements per partner, category, grid or local month, over
    the local days ``date_from``..``date_to`` (inclusive; either open)."""
    if group_by not in GROUPINGS:
        raise Invalid(f"group_by must be one of {', '.join(GROUPINGS)}", details={"group_by": ["unknown grouping"]})
    key = {
        "partner": Disbursement.partner_id,
        "category": Disbursement.category,
        "grid": Disbursement.grid_id,
        "month": _month_key(session),
    }[group_by]
    agg = (
        select(key.label("k"), func.count().label("n"), func.sum(Disbursement.amount_fen).label("s"))
        .where(_period_filter(Disbursement.created_at, date_from, date_to))
        .group_by(key)
        .subquery()
    )
    if group_by == "partner":
        stmt = select(agg, Partner.name.label("label")).outerjoin(Partner, Partner.id == agg.c.k)
    elif group_by == "grid":
        stmt = select(agg, (Grid.name + " (" + Grid.code + ")").label("label")).outerjoin(Grid, Grid.id == agg.c.k)
    else:
        stmt = select(agg, agg.c.k.label("label"))
    order = (agg.c.k,) if group_by == "month" else (agg.c.s.desc(), agg.c.k)
    rows = [
        ReportRow(
            key=_month_label(r.k) if group_by == "month" else r.k,
            label=_label(group_by, r),
            count=int(r.n),
            amount_fen=int(r.s or 0),
        )
        for r in session.execute(stmt.order_by(*order))
    ]
    return DisbursementReport(
        group_by=group_by,
        date_from=date_from,
        date_to=date_to,
        rows=rows,
        count=sum(r.count for r in rows),
        amount_fen=sum(r.amount_fen for r in rows),
    )


# --- possible duplicate benefits ---------------------------------------------------------------


@dataclass(frozen=True)
class BenefitPayment:
    disbursement_id: int
    partner_id: int
    partner_name: str
    request_id: int
    amount_fen: int
    kind: str
    created_at: datetime


@dataclass(frozen=True)
class DuplicateBenefit:
    """One household and category that may have been helped twice: paid beyond what its
    requests asked (``beyond_need``), or paid by several partners within the window
    (``several_partners``)."""

    household_id: int
    category: str
    category_label: str
    reasons: list[str]
    needed_fen: int | None
    disbursed_fen: int
    excess_fen: int
    partners: list[str]
    payments: list[BenefitPayment] = field(default_factory=list)


def duplicate_benefits(session: Session, window_days: int = 30) -> list[DuplicateBenefit]:
    """Households whose help in one category looks duplicated, for an auditor to review.

    * beyond need: a request with an amount received more than that amount (summed over
      its disbursements), or
    * several partners: two different partners paid the same household in the same
      category within ``window_days`` of each other.
    """
    if not 1 <= window_days <= 3660:
        raise Invalid("window_days must be between 1 and 3660", details={"window_days": ["out of range"]})
    window = timedelta(days=window_days)
    per_request = (
        select(
            Disbursement.request_id.label("rid"),
            Disbursement.household_id.label("hid"),
            Disbursement.category.label("cat"),
            func.sum(Disbursement.amount_fen).label("paid"),
        )
        .group_by(Disbursement.request_id, Disbursement.household_id, Disbursement.category)
        .subquery()
    )
    over = session.execute(
        select(per_request.c.hid, per_request.c.cat, per_request.c.paid, AidRequest.amount_fen)
        .join(AidRequest, AidRequest.id == per_request.c.rid)
        .where(AidRequest.amount_fen.is_not(None), per_request.c.paid > AidRequest.amount_fen)
    ).all()
    excess: dict[tuple[int, str], int] = defaultdict(int)
    for r in over:
        excess[(r.hid, r.cat)] += int(r.paid) - int(r.amount_fen)
    several = session.execute(
        select(Disbursement.household_id, Disbursement.category)
        .group_by(Disbursement.household_id, Disbursement.category)
        .having(func.count(func.distinct(Disbursement.partner_id)) > 1)
    ).all()
    candidates = set(excess) | {(r.household_id, r.category) for r in several}
    if not candidates:
        return []
    payments = _payments(session, candidates)
    needs = _needs(session, candidates)
    found = []
    for hid, cat in sorted(candidates):
        pays = payments[(hid, cat)]
        reasons = []
        if excess.get((hid, cat), 0) > 0:
            reasons.append("beyond_need")
        if _several_partners_within(pays, window):
            reasons.append("several_partners")
        if not reasons:
            continue
        found.append(
            DuplicateBenefit(
                household_id=hid,
                category=cat,
                category_label=CATEGORY_LABELS.get(cat, cat),
                reasons=reasons,
                needed_fen=needs.get((hid, cat)),
                disbursed_fen=sum(p.amount_fen for p in pays),
                excess_fen=excess.get((hid, cat), 0),
                partners=sorted({p.partner_name for p in pays}),
                payments=pays,
            )
        )
    return found


def _several_partners_within(pays: list[BenefitPayment], window: timedelta) -> bool:
    """Whether two payments from different partners lie within ``window`` (time order)."""
    for i, p in enumerate(pays):
        for q in reversed(pays[:i]):
            if p.created_at - q.created_at > window:
                break
            if q.partner_id != p.partner_id:
                return True
    return False


def _payments(session: Session, keys: set[tuple[int, str]]) -> dict[tuple[int, str], list[BenefitPayment]]:
    households = {hid for hid, _ in keys}
    out: dict[tuple[int, str], list[BenefitPayment]] = defaultdict(list)
    rows = session.execute(
        select(Disbursement, Partner.name)
        .join(Partner, Partner.id == Disbursement.partner_id)
        .where(Disbursement.household_id.in_(households))
        .order_by(Disbursement.created_at, Disbursement.id)
    ).all()
    for d, name in rows:
        if (d.household_id, d.category) in keys:
            out[(d.household_id, d.category)].append(
                BenefitPayment(d.id, d.partner_id, name, d.request_id, d.amount_fen, d.kind, d.created_at)
            )
    return out


def _needs(session: Session, keys: set[tuple[int, str]]) -> dict[tuple[int, str], int | None]:
    """What the paid requests asked for, per household and category (None if any of
    them had no amount: a service or goods without a price)."""
    households = {hid for hid, _ in keys}
    paid_requests = select(Disbursement.request_id).where(Disbursement.household_id.in_(households)).distinct()
    rows = session.execute(
        select(AidRequest.household_id, AidRequest.category, AidRequest.amount_fen).where(
            AidRequest.id.in_(paid_requests)
        )
    ).all()
    out: dict[tuple[int, str], int | None] = {}
    for r in rows:
        k = (r.household_id, r.category)
        if k not in keys:
            continue
        if r.amount_fen is None or (k in out and out[k] is None):
            out[k] = None
        else:
            out[k] = out.get(k, 0) + r.amount_fen
    return out


# --- time to fulfilment ------------------------------------------------------------------------


@dataclass(frozen=True)
class FulfilmentRow:
    category: str
    label: str
    completed: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class FulfilmentReport:
    date_from: date | None
    date_to: date | None
    rows: list[FulfilmentRow]
    overall: FulfilmentRow


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (as PostgreSQL's percentile_cont)."""
    if not sorted_values:
        return None
    pos = (len(sorted_values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _row(category: str, label: str, hours: list[float]) -> FulfilmentRow:
    hours.sort()
    med, p90 = percentile(hours, 0.5), percentile(hours, 0.9)
    return FulfilmentRow(
        category=category,
        label=label,
        completed=len(hours),
        median_hours=None if med is None else round(med, 2),
        p90_hours=None if p90 is None else round(p90, 2),
    )


def fulfilment(session: Session, date_from: date | None = None, date_to: date | None = None) -> FulfilmentReport:
    """Hours from request to completion, per category: how many completed, the median
    and the 90th percentile. The period selects requests by when they completed."""
    rows = session.execute(
        select(AidRequest.category, AidRequest.created_at, AidRequest.completed_at).where(
            AidRequest.status == "completed",
            AidRequest.completed_at.is_not(None),
            _period_filter(AidRequest.completed_at, date_from, date_to),
        )
    ).all()
    by_cat: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        by_cat[r.category].append(max(0.0, (r.completed_at - r.created_at).total_seconds() / 3600))
    everything = [h for hours in by_cat.values() for h in hours]
    return FulfilmentReport(
        date_from=date_from,
        date_to=date_to,
        rows=[_row(cat, CATEGORY_LABELS.get(cat, cat), by_cat[cat]) for cat in sorted(by_cat)],
        overall=_row("all", "全部", everything),
    )


# --- files ---------------------------------------------------------------------------------------


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
