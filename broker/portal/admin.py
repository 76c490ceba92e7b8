"""The operator's pages: the overview (grids with their caseworkers and coverage,
partners with their funds) here, and setting things up — the region tree
(:mod:`.admin_regions`), grids (:mod:`.admin_grids`), partners and their adapters and deposits (:mod:`.admin_partners`,
:mod:`.admin_deposits`), users (:mod:`.admin_users`) — on the same blueprint. Each calls
the domain function the admin API calls, checked by the same schema."""

from __future__ import annotations

from flask import Blueprint, render_template

from broker.money import funds
from broker.platform import db
from broker.portal.auth import current_principal, role_required
from broker.referral import partners
from broker.registry import visits

bp = Blueprint("portal_admin", __name__, url_prefix="/admin")


@bp.get("/")
@role_required("admin")
def home() -> str:
    principal = current_principal()
    session = db.session()
    held = [(p, funds.balances(session, p.id)) for p in partners.list_partners(session, principal, per_page=500).items]
    coverage = visits.coverage(session, principal, not_visited_days=30, per_page=1)
    return render_template("portal/admin/home.html", funds=held, coverage=coverage)
