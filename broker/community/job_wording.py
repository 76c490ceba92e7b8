"""What the jobs-and-skills side says, as text codes with parameters: why an opening or a
course suits a household member, why another does not, and the labels the figures and
their export use. Rendered in the reader's language at display time."""

from __future__ import annotations

from typing import Any

from broker.platform.texts import N_, define

# Why an opening or a course suits the member.
WHY = {
    "jobs.why.same_grid": N_("in the family's own grid"),
    "jobs.why.same_district": N_("in the same district (%(district)s)"),
    "jobs.why.anywhere": N_("open to anyone, wherever they live"),
    "jobs.why.home_based_carer": N_("home-based: the member can work while caring for %(count)s at home"),
    "jobs.why.home_based": N_("home-based: no travel"),
    "jobs.why.flexible": N_("flexible hours"),
    "jobs.why.hours": N_("%(hours)s hours a week"),
    "jobs.why.pay": N_("pays %(pay_fen)s a %(unit)s"),
    "jobs.why.skill_done": N_("the member completed a course in %(skill)s"),
    "jobs.why.skill_none": N_("needs no particular skill"),
    "jobs.why.course_skill": N_("teaches %(skill)s, which %(count)s open openings ask for"),
    "jobs.why.course_seats": N_("%(free)s of %(capacity)s places free"),
    "jobs.why.course_starts": N_("starts %(starts_on)s; %(sessions)s sessions"),
    "jobs.why.rank": N_("ranked %(rank)s of %(total)s"),
}
# Why one is left out.
WHY_NOT = {
    "jobs.not.full": N_("all %(positions)s positions are filled"),
    "jobs.not.course_full": N_("all %(capacity)s places are taken"),
    "jobs.not.elsewhere": N_("it is in %(district)s, not where the family lives"),
    "jobs.not.needs_skill": N_("it asks for %(skill)s: take a course in it first"),
    "jobs.not.carer_on_site": N_(
        "on site for %(hours)s hours a week: too long for a member caring for %(count)s at home"
    ),
    "jobs.not.already_placed": N_("the member already works here"),
    "jobs.not.already_enrolled": N_("the member is already on this course"),
    "jobs.not.skill_done": N_("the member has completed a course in %(skill)s already"),
}
UNITS = {"month": N_("month"), "day": N_("day"), "piece": N_("piece")}
KINDS = {
    "factory": N_("Factory work"),
    "service": N_("Services"),
    "handicraft": N_("Handicraft"),
    "care": N_("Care work"),
    "agriculture": N_("Farm work"),
    "office": N_("Office work"),
    "other": N_("Other work"),
}
FIGURES = {
    "jobs.fig.openings_open": N_("Open openings"),
    "jobs.fig.positions_open": N_("Positions still open"),
    "jobs.fig.courses_completed": N_("Course places completed"),
    "jobs.fig.enrolled": N_("Members on a course now"),
    "jobs.fig.placements": N_("Placements"),
    "jobs.fig.retained_3": N_("Still working at 3 months"),
    "jobs.fig.retained_6": N_("Still working at 6 months"),
    "jobs.fig.follow_ups_due": N_("Follow-ups due"),
    "jobs.fig.home_workers": N_("Home-based workers"),
    "jobs.fig.home_earnings": N_("Earnings of home-based workers"),
    "jobs.fig.home_orders": N_("Home-based orders"),
    "jobs.sheet.summary": N_("Summary"),
    "jobs.sheet.workers": N_("Home-based workers"),
    "jobs.col.figure": N_("Figure"),
    "jobs.col.value": N_("Value"),
    "jobs.col.worker": N_("Worker"),
    "jobs.col.workshop": N_("Workshop"),
    "jobs.col.pieces": N_("Pieces"),
    "jobs.col.earnings": N_("Earnings (yuan)"),
}
define(
    {
        **WHY,
        **WHY_NOT,
        **{f"jobs.unit.{k}": v for k, v in UNITS.items()},
        **{f"jobs.kind.{k}": v for k, v in KINDS.items()},
        **FIGURES,
    }
)


def reason(code: str, **params: Any) -> dict[str, Any]:
    """One stored reason: ``{"code": "jobs.why.hours", "params": {"hours": 20}}``."""
    if code not in WHY and code not in WHY_NOT:
        raise ValueError(f"unknown jobs reason: {code}")
    return {"code": code, "params": params}


def unit(pay_unit: str) -> dict[str, Any]:
    return {"code": f"jobs.unit.{pay_unit}", "params": {}}
