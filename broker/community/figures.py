"""The community's figures the reports quote, computed: family volunteer points earned
and redeemed, the hours behind them and the households taking part, and the leads mobile
grid members reported (how many, how many were visited, how many reporters were active),
per community, over a period of local days — for the report page, its charts and its XLSX."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.community import leads
from broker.money.exports import Column
from broker.money.report_files import ExportFile, export_file
from broker.platform import periods, texts
from broker.platform.texts import N_, define
from models import Grid, Household, Lead, PointsEarning, Redemption

define(
    {
        "figures.title": N_("Community figures"),
        "figures.community": N_("Community"),
        "figures.households": N_("Households earning"),
        "figures.hours": N_("Volunteer hours"),
        "figures.earned": N_("Points earned"),
        "figures.redeemed": N_("Points redeemed"),
        "figures.redemptions": N_("Redemptions"),
        "figures.leads": N_("Leads reported"),
        "figures.leads_visited": N_("Leads visited"),
        "figures.reporters": N_("Active mobile grid members"),
    }
)


@dataclass(frozen=True)
class CommunityRow:
    community: str
    households: int
    minutes: int
    earned: int
    redeemed: int
    redemptions: int
    leads: int = 0
    leads_visited: int = 0
    reporters: int = 0


@dataclass(frozen=True)
class Figures:
    date_from: date | None
    date_to: date | None
    rows: list[CommunityRow]
    reporters: int = 0  # across communities: a reporter active in two counts once

    @property
    def total(self) -> CommunityRow:
        return CommunityRow(
            "",
            sum(r.households for r in self.rows),
            sum(r.minutes for r in self.rows),
            sum(r.earned for r in self.rows),
            sum(r.redeemed for r in self.rows),
            sum(r.redemptions for r in self.rows),
            sum(r.leads for r in self.rows),
            sum(r.leads_visited for r in self.rows),
            self.reporters,
        )


def _within(column: object, date_from: date | None, date_to: date | None) -> list:
    start, end = periods.bounds(date_from, date_to)
    conds = []
    if start is not None:
        conds.append(column >= start)  # type: ignore[operator]
    if end is not None:
        conds.append(column < end)  # type: ignore[operator]
    return conds


def community_figures(
    session: Session,
    date_from: date | None = None,
    date_to: date | None = None,
    grids: frozenset[int] | None = None,
) -> Figures:
    """Per community: households that earned, volunteer hours, points earned and redeemed;
    ``grids`` keeps a reader scoped to a region to the households of its grids (and the
    leads on them, or waiting in their communities)."""
    on_grids = [] if grids is None else [Household.grid_id.in_(sorted(grids) or [-1])]
    leads_on = [] if grids is None else [leads.on_grids(grids)]
    earners = [] if grids is None else [PointsEarning.household_id.in_(select(Household.id).where(*on_grids))]
    earned = {
        r.community: r
        for r in session.execute(
            select(
                PointsEarning.community,
                func.count(func.distinct(PointsEarning.household_id)).label("households"),
                func.sum(PointsEarning.minutes).label("minutes"),
                func.sum(PointsEarning.points).label("points"),
            )
            .where(*_within(PointsEarning.created_at, date_from, date_to), *earners)
            .group_by(PointsEarning.community)
        )
    }
    spent = {
        r.community: r
        for r in session.execute(
            select(
                Grid.community,
                func.sum(Redemption.points).label("points"),
                func.count(Redemption.id).label("count"),
            )
            .join(Household, Household.id == Redemption.household_id)
            .join(Grid, Grid.id == Household.grid_id)
            .where(*_within(Redemption.created_at, date_from, date_to), *on_grids)
            .group_by(Grid.community)
        )
    }
    reported = {
        r.community: r
        for r in session.execute(
            select(
                Lead.community,
                func.count(Lead.id).label("count"),
                func.count(Lead.visit_id).label("visited"),
                func.count(func.distinct(Lead.reporter_id)).label("reporters"),
            )
            .where(*_within(Lead.created_at, date_from, date_to), *leads_on)
            .group_by(Lead.community)
        )
    }
    reporters = session.execute(
        select(func.count(func.distinct(Lead.reporter_id))).where(
            *_within(Lead.created_at, date_from, date_to), *leads_on
        )
    ).scalar_one()
    rows = [
        CommunityRow(
            community=name,
            households=earned[name].households if name in earned else 0,
            minutes=int(earned[name].minutes or 0) if name in earned else 0,
            earned=int(earned[name].points or 0) if name in earned else 0,
            redeemed=int(spent[name].points or 0) if name in spent else 0,
            redemptions=spent[name].count if name in spent else 0,
            leads=reported[name].count if name in reported else 0,
            leads_visited=reported[name].visited if name in reported else 0,
            reporters=reported[name].reporters if name in reported else 0,
        )
        for name in sorted(set(earned) | set(spent) | set(reported))
    ]
    return Figures(date_from, date_to, rows, reporters)


COLUMNS = [
    Column("community", "figures.community", "text", 24),
    Column("households", "figures.households", "int", 14),
    Column("hours", "figures.hours", "number", 14),
    Column("earned", "figures.earned", "int", 14),
    Column("redeemed", "figures.redeemed", "int", 14),
    Column("redemptions", "figures.redemptions", "int", 14),
    Column("leads", "figures.leads", "int", 14),
    Column("leads_visited", "figures.leads_visited", "int", 14),
    Column("reporters", "figures.reporters", "int", 16),
]


def _row(r: CommunityRow, label: str) -> dict:
    return {
        "community": label,
        "households": r.households,
        "hours": round(r.minutes / 60, 1),
        "earned": r.earned,
        "redeemed": r.redeemed,
        "redemptions": r.redemptions,
        "leads": r.leads,
        "leads_visited": r.leads_visited,
        "reporters": r.reporters,
    }


def figures_file(figures: Figures) -> ExportFile:
    """The figures as an XLSX sheet in the reader's language, with a total row."""
    rows = [_row(r, r.community) for r in figures.rows]
    period = f"{figures.date_from or 'all'}_{figures.date_to or 'all'}"
    total = _row(figures.total, texts.render("export.total"))
    return export_file(f"community-figures-{period}", "xlsx", COLUMNS, rows, "figures.title", total)
