"""The community figures page: family volunteer points earned and redeemed, the hours
and households behind them, and the leads mobile grid members reported and how many
were visited, per community over a period — charts, the numbers as a
table, and an XLSX. Linked from the auditor's and the caseworker's dashboards."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _

from broker.community import figures
from broker.platform import db
from broker.portal.auth import current_principal, role_required
from broker.portal.dashboard_charts import Chart

bp = Blueprint("portal_community", __name__, url_prefix="/community")
READERS = ("caseworker", "auditor", "admin")


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _period() -> tuple[date | None, date | None]:
    since, until = _day("since"), _day("until")
    if since and until and since > until:
        since, until = until, since
    return since, until


@bp.get("/figures")
@role_required(*READERS)
def page() -> str:
    """The figures for the period (``since``/``until``, local days; default: everything)."""
    since, until = _period()
    found = figures.community_figures(db.session(), since, until, current_principal().region_scope())
    head = (_("Community"), _("Points"), _("Households earning"))
    charts = [
        Chart(
            "points-earned",
            _("Points earned by community"),
            _("Family volunteer points earned in the period, by community"),
            head,
            [(r.community, r.earned, str(r.earned), r.households) for r in found.rows],
        ),
        Chart(
            "points-redeemed",
            _("Points redeemed by community"),
            _("Family volunteer points redeemed in the points shop, by community"),
            (_("Community"), _("Points"), _("Redemptions")),
            [(r.community, r.redeemed, str(r.redeemed), r.redemptions) for r in found.rows],
        ),
        Chart(
            "leads-reported",
            _("Leads from mobile grid members by community"),
            _("Households couriers and neighbours reported in the period, and how many were visited, by community"),
            (_("Community"), _("Leads reported"), _("Visited")),
            [(r.community, r.leads, str(r.leads), r.leads_visited) for r in found.rows if r.leads],
        ),
    ]
    return render_template("portal/community/figures.html", figures=found, charts=charts, since=since, until=until)


@bp.get("/figures.xlsx")
@role_required(*READERS)
def export() -> Response:
    """The same figures as an XLSX file."""
    since, until = _period()
    file = figures.figures_file(
        figures.community_figures(db.session(), since, until, current_principal().region_scope())
    )
    response = Response(file.content, mimetype=file.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response
