"""The dashboard's roll-up by region: money disbursed per district (or, for a reader
scoped to a node, per child of its node), then per street within each, as charts with
the same numbers in tables. Each row is the sum of the grids below it."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from broker.money import region_reports
from broker.platform.scope import Principal
from broker.portal import i18n
from broker.portal.dashboard_charts import Chart
from broker.registry import region_tree

MAX_SECTIONS = 12


def _chart(chart_id: str, title: str, rollup: region_reports.Rollup) -> Chart:
    return Chart(
        chart_id,
        title,
        _("Disbursed to families below it: %(total)s in all.", total=i18n.format_yuan(rollup.amount_fen)),
        (_("Region"), _("Amount"), _("Disbursements")),
        [(row.name, row.amount_fen, i18n.format_yuan(row.amount_fen), row.count) for row in rollup.rows],
    )


def sections(session: Session, principal: Principal, since: date | None, until: date | None) -> list[Chart]:
    """The reader's top level (districts, or its own node's children), then one chart per
    child of each of those (streets within each district)."""
    tree = region_tree.load(session)
    scope = principal.grid_scope()
    top_node = tree.nodes.get(principal.region_id) if principal.region_id is not None else None
    top = region_reports.disbursement_rollup(session, top_node.code if top_node else None, scope, since, until)
    title = _("Disbursed per district") if top_node is None else _("Disbursed in %(place)s", place=top.name)
    out = [_chart("by-region", title, top)]
    for i, row in enumerate(r for r in top.rows if r.code in tree.by_code):
        if i >= MAX_SECTIONS:
            break
        below = region_reports.disbursement_rollup(session, row.code, scope, since, until)
        out.append(_chart(f"by-region-{i + 1}", _("Disbursed in %(place)s", place=below.name), below))
    return out
