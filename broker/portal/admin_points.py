"""Family volunteer points in the admin pages: each community's rules (points per hour
of an activity, a monthly cap) and its points shop's items — made by the same domain
functions as over the API, every change on the audit chain."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from broker.community import points_rules, points_shop
from broker.platform import db
from broker.platform.errors import DomainError
from broker.portal import pages
from broker.portal.admin import bp
from broker.portal.auth import role_required
from broker.portal.once import once
from broker.portal.points_forms import ItemForm, RuleForm


def _page(rule_form: RuleForm | None = None, item_form: ItemForm | None = None, status: int = 200) -> tuple[str, int]:
    session = db.session()
    return (
        render_template(
            "portal/admin/points.html",
            rules=points_rules.rules(session),
            items=points_shop.items(session),
            rule_form=rule_form or RuleForm(),
            item_form=item_form or ItemForm(),
        ),
        status,
    )


@bp.get("/points")
@role_required("admin")
def points_page() -> tuple[str, int]:
    """The communities' points rules and shops."""
    return _page()


@bp.post("/points/rules")
@role_required("admin")
@once
def points_rule() -> Response | tuple[str, int]:
    form = RuleForm()
    if not form.validate_on_submit():
        return _page(rule_form=form, status=422)
    try:
        points_rules.set_rule(
            db.session(), form.community.data, form.activity.data, form.points_per_hour.data, form.monthly_cap.data
        )
    except DomainError as exc:
        return _page(rule_form=form, status=pages.refused(exc))
    pages.commit(_("Points rule saved."))
    return redirect(url_for("portal_admin.points_page"), code=303)


@bp.post("/points/items")
@role_required("admin")
@once
def points_item() -> Response | tuple[str, int]:
    form = ItemForm()
    if not form.validate_on_submit():
        return _page(item_form=form, status=422)
    try:
        points_shop.add_item(
            db.session(),
            community=form.community.data,
            name=form.name.data,
            kind=form.kind.data,
            price_points=form.price_points.data,
            stock=form.stock.data,
            description=form.description.data or "",
        )
    except DomainError as exc:
        return _page(item_form=form, status=pages.refused(exc))
    pages.commit(_("Item added to the points shop."))
    return redirect(url_for("portal_admin.points_page"), code=303)
