"""The figures the community reports quote, computed: teams, active volunteers, hours
and person-times served, per period and per community, and the response time of
volunteer tasks — from the request reaching the team to the first claim, and to the
task done — against the period of the same length just before (the "+40 %": a positive
``improvement_pct`` means faster). Also as an XLSX workbook that opens in Excel.

A person-time is one confirmed service record; an active volunteer has at least one in
the period; a team counts when it is active (and, per community, when it served there)."""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from sqlalchemy import ColumnElement, and_, func, literal, select
from sqlalchemy.orm import Session

from broker.community import service_records, teams
from broker.money.report_basis import period_filter
from broker.platform import texts
from broker.platform.scope import Principal
from broker.platform.texts import N_, define
from broker.referral.outcome_reports import LOWER_IS_BETTER, Comparison, Period, compare, periods_of
from models import Grid, Partner, ServiceRecord, VolunteerTask

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READERS = ("caseworker", "auditor", "admin")
NO_COMMUNITY = "volunteer_figures.no_community"

define(
    {
        NO_COMMUNITY: N_("The teams' own work (no family)"),
        "volunteer_figures.sheet.summary": N_("Summary"),
        "volunteer_figures.sheet.communities": N_("By community"),
        "volunteer_figures.col.figure": N_("Figure"),
        "volunteer_figures.col.current": N_("This period"),
        "volunteer_figures.col.previous": N_("Previous period"),
        "volunteer_figures.col.change": N_("Improvement (%)"),
        "volunteer_figures.col.community": N_("Community"),
        "volunteer_figures.teams": N_("Volunteer teams"),
        "volunteer_figures.volunteers": N_("Active volunteers"),
        "volunteer_figures.hours": N_("Hours served"),
        "volunteer_figures.person_times": N_("Person-times"),
        "volunteer_figures.to_claim": N_("Median hours from request to first claim"),
        "volunteer_figures.to_done": N_("Median hours from request to done"),
        "volunteer_figures.period": N_("From %(from)s to %(to)s; previous period %(prev_from)s to %(prev_to)s"),
    }
)


@dataclass(frozen=True)
class CommunityRow:
    community: str
    teams: int
    volunteers: int
    minutes: int
    person_times: int

    @property
    def hours(self) -> str:
        return service_records.hours(self.minutes)


@dataclass(frozen=True)
class Totals:
    teams: int
    volunteers: int
    minutes: int
    person_times: int
    hours_to_claim: float | None
    hours_to_done: float | None
    rows: list[CommunityRow]


@dataclass(frozen=True)
class Figures:
    period: Period
    previous_period: Period
    current: Totals
    previous: Totals
    to_claim: Comparison
    to_done: Comparison


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    found = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return round(found, 2)


def _in(district: str | None, grids: frozenset[int] | None = None) -> ColumnElement[bool]:
    """On the district's grids (all when None) and, for a reader scoped to a region, on its grids."""
    inside = Grid.district == district if district else literal(True)
    return inside if grids is None else and_(inside, Grid.id.in_(sorted(grids) or [-1]))


def _totals(session: Session, period: Period, district: str | None, grids: frozenset[int] | None = None) -> Totals:
    records = session.execute(
        select(ServiceRecord.team_id, ServiceRecord.volunteer_id, ServiceRecord.minutes, Grid.community)
        .outerjoin(Grid, Grid.id == ServiceRecord.grid_id)
        .where(period_filter(ServiceRecord.started_at, period.date_from, period.date_to), _in(district, grids))
    ).all()
    by_community: dict[str, list] = defaultdict(list)
    for row in records:
        by_community[row.community or texts.render(NO_COMMUNITY)].append(row)
    rows = [
        CommunityRow(
            name,
            len({r.team_id for r in found}),
            len({r.volunteer_id for r in found}),
            sum(r.minutes for r in found),
            len(found),
        )
        for name, found in sorted(by_community.items(), key=lambda kv: -sum(r.minutes for r in kv[1]))
    ]
    tasks = session.execute(
        select(VolunteerTask.requested_at, VolunteerTask.first_claim_at, VolunteerTask.done_at)
        .outerjoin(Grid, Grid.id == VolunteerTask.grid_id)
        .where(period_filter(VolunteerTask.requested_at, period.date_from, period.date_to), _in(district, grids))
    ).all()
    to_claim = [(t.first_claim_at - t.requested_at).total_seconds() / 3600 for t in tasks if t.first_claim_at]
    to_done = [(t.done_at - t.requested_at).total_seconds() / 3600 for t in tasks if t.done_at]
    active_teams = session.execute(
        select(func.count()).select_from(Partner).where(Partner.kind == teams.TEAM_KIND, Partner.active.is_(True))
    ).scalar_one()
    return Totals(
        teams=len({r.team_id for r in records}) if district or grids is not None else active_teams,
        volunteers=len({r.volunteer_id for r in records}),
        minutes=sum(r.minutes for r in records),
        person_times=len(records),
        hours_to_claim=_median([max(h, 0.0) for h in to_claim]),
        hours_to_done=_median([max(h, 0.0) for h in to_done]),
        rows=rows,
    )


def figures(
    session: Session,
    principal: Principal,
    date_from: date | None = None,
    date_to: date | None = None,
    district: str | None = None,
) -> Figures:
    """The figures for the period (by default the last 30 days) and the one before it,
    for the whole city or one district (a reader scoped to a region: its grids only)."""
    principal.require(*READERS)
    scope = principal.region_scope()
    current, previous = periods_of(date_from, date_to)
    now, before = _totals(session, current, district, scope), _totals(session, previous, district, scope)
    return Figures(
        current,
        previous,
        now,
        before,
        compare(now.hours_to_claim, before.hours_to_claim, LOWER_IS_BETTER),
        compare(now.hours_to_done, before.hours_to_done, LOWER_IS_BETTER),
    )


def _number(value: float | None) -> float | str:
    return "—" if value is None else value


def to_xlsx(found: Figures) -> tuple[str, bytes]:
    """The figures as a workbook: the summary against the previous period, and hours and
    person-times per community with a bar chart of the hours."""
    r = texts.render
    wb = Workbook()
    summary = wb.active
    summary.title = r("volunteer_figures.sheet.summary")[:31]
    params = {
        "from": found.period.date_from.isoformat(),
        "to": found.period.date_to.isoformat(),
        "prev_from": found.previous_period.date_from.isoformat(),
        "prev_to": found.previous_period.date_to.isoformat(),
    }
    summary.append([r("volunteer_figures.period", params)])
    summary.append([r(f"volunteer_figures.col.{c}") for c in ("figure", "current", "previous", "change")])
    for cell in summary[2]:
        cell.font = Font(bold=True)
    cur, prev = found.current, found.previous
    summary.append([r("volunteer_figures.teams"), cur.teams, prev.teams])
    summary.append([r("volunteer_figures.volunteers"), cur.volunteers, prev.volunteers])
    summary.append([r("volunteer_figures.hours"), cur.minutes / 60, prev.minutes / 60])
    summary.append([r("volunteer_figures.person_times"), cur.person_times, prev.person_times])
    for key, comparison in (("to_claim", found.to_claim), ("to_done", found.to_done)):
        summary.append(
            [
                r(f"volunteer_figures.{key}"),
                _number(comparison.current),
                _number(comparison.previous),
                _number(comparison.improvement_pct),
            ]
        )
    for letter, width in zip("ABCD", (34, 14, 14, 16), strict=True):
        summary.column_dimensions[letter].width = width
    sheet = wb.create_sheet(r("volunteer_figures.sheet.communities")[:31])
    heads = ("col.community", "teams", "volunteers", "hours", "person_times")
    sheet.append([r(f"volunteer_figures.{h}") for h in heads])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in cur.rows:
        sheet.append([row.community, row.teams, row.volunteers, round(row.minutes / 60, 1), row.person_times])
    for letter, width in zip("ABCDE", (28, 12, 14, 12, 12), strict=True):
        sheet.column_dimensions[letter].width = width
    if cur.rows:
        chart = BarChart()
        chart.type = "bar"
        chart.title = r("volunteer_figures.hours")
        chart.add_data(Reference(sheet, min_col=4, min_row=1, max_row=len(cur.rows) + 1), titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=len(cur.rows) + 1))
        sheet.add_chart(chart, "G2")
    buf = io.BytesIO()
    wb.save(buf)
    name = f"volunteer-figures-{found.period.date_from.isoformat()}-{found.period.date_to.isoformat()}.xlsx"
    return name, buf.getvalue()
