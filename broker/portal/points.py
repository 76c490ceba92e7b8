"""The family's volunteer points in the portal, on the caseworker's phone: the balance,
hours earned (entered by hand until volunteers' service records send them), the points
shop where the family redeems, and the monthly statement (page and XLSX)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from broker.community import points, points_shop, statements
from broker.platform import db
from broker.platform.errors import DomainError
from broker.portal.auth import current_principal, role_required
from broker.portal.errors import domain_message
from broker.portal.once import once
from broker.portal.pages import commit
from broker.portal.points_forms import EarnForm, RedeemForm

bp = Blueprint("portal_points", __name__, url_prefix="/caseworker")
ACTORS = ("caseworker", "admin")
READERS = ("caseworker", "admin", "auditor")


def _said(error: DomainError) -> str:
    """Why the points page refused, in the reader's language, with the numbers."""
    details = error.details or {}
    if error.code == "not_enough_points":
        return _(
            "Not enough points: the family has %(balance)s, this needs %(needed)s.",
            balance=details.get("balance", 0),
            needed=details.get("needed", 0),
        )
    if error.code == "out_of_stock":
        return _("Only %(stock)s left of this item.", stock=details.get("stock", 0))
    if error.code == "no_points_consent":
        return _(
            "The family has not agreed to take part in volunteer points: "
            "record its consent on the household page first."
        )
    if error.code == "no_points_rule":
        return _("The community has no points rule for this activity: ask an admin to set one.")
    if error.code == "source_used":
        return _("This record was already counted for another household.")
    return domain_message(error)


def _refused(error: DomainError) -> int:
    """Undo the attempt and say why on the page (not found and forbidden go to the error page)."""
    db.session.rollback()
    if error.status in (401, 403, 404):
        raise error
    flash(_said(error), "error")
    return error.status


def _page(household_id: int, earn_form: EarnForm | None = None, status: int = 200) -> tuple[str, int]:
    principal = current_principal()
    session = db.session()
    account = points.account_view(session, principal, household_id)
    shop = points_shop.items(session, account.community, available_only=True)
    return (
        render_template(
            "portal/points/account.html",
            account=account,
            shop=shop,
            earn_form=earn_form or EarnForm(),
            redeem_form=RedeemForm,
            can_write=principal.role in ACTORS,
            names={i.id: i.name for i in points_shop.items(session, account.community)},
        ),
        status,
    )


@bp.get("/households/<int:household_id>/points")
@role_required(*READERS)
def account(household_id: int) -> tuple[str, int]:
    """The family's points, the shop, and what it earned and redeemed lately."""
    return _page(household_id)


@bp.post("/households/<int:household_id>/points/earn")
@role_required(*ACTORS)
@once
def earn(household_id: int) -> Response | tuple[str, int]:
    """Volunteer hours earned by the family, under its community's rule."""
    form = EarnForm()
    if not form.validate_on_submit():
        return _page(household_id, form, 400)
    source = (form.reference.data or "").strip() or f"entry:{form.once_key.data}"
    try:
        earned = points.earn_as(
            db.session(),
            current_principal(),
            household_id,
            activity=form.activity.data,
            minutes=form.minutes.data,
            source_ref=f"sheet:{household_id}:{source}",
        )
    except DomainError as exc:
        return _page(household_id, form, _refused(exc))
    if not earned.created:
        commit(_("This record was counted before: nothing more was added."))
    elif earned.earning.capped:
        commit(_("%(points)s points added: the community's monthly cap was reached.", points=earned.earning.points))
    else:
        commit(_("%(points)s points added.", points=earned.earning.points))
    return redirect(url_for(".account", household_id=household_id))


@bp.post("/households/<int:household_id>/points/redeem")
@role_required(*ACTORS)
@once
def redeem(household_id: int) -> Response | tuple[str, int]:
    """The family takes an item of the points shop and pays in points."""
    form = RedeemForm()
    if not form.validate_on_submit() or not (form.item_id.data or "").isdigit():
        return _page(household_id, status=400)
    try:
        done = points_shop.redeem_as(
            db.session(), current_principal(), household_id, int(form.item_id.data), form.quantity.data
        )
    except DomainError as exc:
        return _page(household_id, status=_refused(exc))
    commit(_("Redeemed for %(points)s points; %(balance)s left.", points=done.redemption.points, balance=done.balance))
    return redirect(url_for(".account", household_id=household_id))


@bp.get("/households/<int:household_id>/points/statement")
@role_required(*READERS)
def statement(household_id: int) -> Response | tuple[str, int]:
    """The monthly statement (``?month=YYYY-MM``), as a page or, with ``format=xlsx``, a sheet."""
    try:
        found = statements.monthly(db.session(), current_principal(), household_id, request.args.get("month") or None)
    except DomainError as exc:
        if exc.status != 422:
            raise
        found = statements.monthly(db.session(), current_principal(), household_id, None)
    if request.args.get("format") == "xlsx":
        file = statements.statement_file(found)
        response = Response(file.content, mimetype=file.mimetype)
        response.headers["Content-Disposition"] = f'attachment; filename="{file.filename}"'
        return response
    return render_template("portal/points/statement.html", statement=found), 200
