"""Money into a partner's fund (a donation, a grant), recorded by an admin from the bank
statement: the amount typed in yuan, its source and reference, and — for money a donor
restricted (定向/专项) — the kinds of need, grids, programme and last day it is for. Checked by the API's
schema (:mod:`broker.money.deposit_schema`) and posted to the ledger (and so the audit
chain) by the same domain function; the form's one-time key makes a double submission
deposit once, as the API's idempotency key does."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from broker.money import fund_balances, funds
from broker.money.deposit_schema import DepositIn
from broker.platform import db
from broker.platform.errors import DomainError
from broker.portal import admin_checks, i18n, pages
from broker.portal.admin import bp
from broker.portal.admin_forms import DepositForm
from broker.portal.auth import current_principal, role_required
from broker.portal.once import once
from broker.referral import partners
from broker.registry import grids, region_tree

FIELDS = {
    "amount_fen": "amount",
    "donor": "donor",
    "reference": "reference",
    "memo": "memo",
    "restriction.categories": "r_categories",
    "restriction.regions": "r_regions",
    "restriction.programme": "r_programme",
    "restriction.expires_on": "r_expires_on",
}


@bp.route("/partners/<int:partner_id>/deposit", methods=["GET", "POST"])
@role_required("admin")
@once
def deposit(partner_id: int) -> Response | tuple[str, int]:
    session = db.session()
    partner = partners.get_partner(session, current_principal(), partner_id)
    form = DepositForm()
    tree = region_tree.load(session)
    nodes = sorted(((n.code, tree.path_label(n)) for n in tree.nodes.values()), key=lambda item: item[1])
    form.set_grids(
        [(g.code, g.name) for g in grids.list_grids(session, current_principal(), per_page=500).items], nodes
    )
    status = 200
    if form.validate_on_submit():
        data = admin_checks.load(DepositIn(), form.data_for(), form, FIELDS)
        status = 422
        if data is not None:
            try:
                funds.record_deposit(session, partner.id, **data)
            except DomainError as exc:
                status = admin_checks.refused(form, exc, FIELDS)
            else:
                pages.commit(
                    _(
                        "%(amount)s deposited into the fund of %(name)s.",
                        amount=i18n.format_yuan(data["amount_fen"]),
                        name=partner.name,
                    )
                )
                return redirect(url_for("portal_admin.deposit", partner_id=partner.id), code=303)
    elif form.is_submitted():
        status = 422
    balances = funds.balances(session, partner.id)
    parts = fund_balances.partner_parts(session, partner.id)["parts"]
    page = render_template("portal/admin/deposit.html", form=form, partner=partner, balances=balances, parts=parts)
    return page, status
