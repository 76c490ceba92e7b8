"""Accounts in the admin pages: the list, creating one, changing its role, language,
grids (a caseworker's) or partner (a partner clerk's), deactivating and reactivating it,
and setting a new password. Checked by the domain's schemas and rules
(:mod:`broker.people.accounts`, the rules accounts are created by), so a lone surrogate
in a password is a message on the form, never an error page."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from broker.people import accounts
from broker.platform import db
from broker.platform.errors import DomainError
from broker.portal import admin_checks, i18n, pages
from broker.portal.admin import bp
from broker.portal.admin_forms import ActiveForm, NewUserForm, PasswordForm, UserForm
from broker.portal.auth import current_principal, role_required
from broker.portal.once import once
from broker.referral import partners
from broker.registry import grids, region_tree

FIELDS = {
    "username": "username",
    "password": "password",
    "display_name": "display_name",
    "role": "role",
    "locale": "locale",
    "grid_codes": "grids",
    "grid": "grids",
    "partner_id": "partner",
    "partner": "partner",
    "region": "region",
}


def _with_choices(form: UserForm) -> UserForm:
    session, principal = db.session(), current_principal()
    tree = region_tree.load(session)
    form.set_choices(
        [(g.code, g.name) for g in grids.list_grids(session, principal, per_page=500).items],
        [(p.id, p.name) for p in partners.list_partners(session, principal, per_page=500).items],
        sorted(((n.code, tree.path_label(n)) for n in tree.nodes.values()), key=lambda item: item[1]),
    )
    return form


@bp.get("/users")
@role_required("admin")
def user_list() -> str:
    session = db.session()
    listed = accounts.list_users(session, current_principal(), per_page=500).items
    codes = {user.id: accounts.grid_codes(session, user) for user in listed if user.role == "caseworker"}
    scopes = {user.id: accounts.summary(session, user)["region"] for user in listed if user.region_id}
    names = {p.id: p.name for p in partners.list_partners(session, current_principal(), per_page=500).items}
    return render_template(
        "portal/admin/users.html",
        users=listed,
        grid_codes=codes,
        partner_names=names,
        scopes=scopes,
        toggle_form=ActiveForm(),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin")
@once
def user_new() -> Response | tuple[str, int]:
    form = _with_choices(NewUserForm())
    status = 200
    if form.validate_on_submit():
        data = admin_checks.load(accounts.UserIn(), form.data_for(), form, FIELDS)
        status = 422
        if data is not None:
            try:
                user = accounts.create(db.session(), current_principal(), data, allowed_locales=i18n.LOCALES)
            except DomainError as exc:
                status = admin_checks.refused(form, exc, FIELDS)
            else:
                pages.commit(_("Account %(name)s created.", name=user.username))
                return redirect(url_for("portal_admin.user_list"), code=303)
    elif form.is_submitted():
        status = 422
    return render_template("portal/admin/user_form.html", form=form, user=None), status


def _shown(user: Any, codes: list[str], region: str | None = None) -> dict[str, Any]:
    return {
        "display_name": user.display_name,
        "role": user.role,
        "locale": user.locale or i18n.DEFAULT_LOCALE,
        "grids": codes,
        "partner": str(user.partner_id or ""),
        "region": region or "",
    }


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@role_required("admin")
@once
def user_edit(user_id: int) -> Response | tuple[str, int]:
    session = db.session()
    user = accounts.get(session, current_principal(), user_id)
    shown = accounts.summary(session, user)
    form = _with_choices(UserForm(data=_shown(user, shown["grids"], shown["region"])))
    status = 200
    if form.validate_on_submit():
        data = admin_checks.load(accounts.UserPatch(), form.data_for(), form, FIELDS)
        status = 422
        if data is not None:
            try:
                accounts.update(session, current_principal(), user_id, data, allowed_locales=i18n.LOCALES)
            except DomainError as exc:
                status = admin_checks.refused(form, exc, FIELDS)
            else:
                pages.commit(_("Account %(name)s saved.", name=user.username))
                return redirect(url_for("portal_admin.user_list"), code=303)
    elif form.is_submitted():
        status = 422
    return render_template("portal/admin/user_form.html", form=form, user=user), status


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@role_required("admin")
@once
def user_password(user_id: int) -> Response | tuple[str, int]:
    session = db.session()
    user = accounts.get(session, current_principal(), user_id)
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        data = admin_checks.load(accounts.PasswordIn(), {"password": form.password.data or ""}, form, FIELDS)
        status = 422
        if data is not None:
            try:
                accounts.reset_password(session, current_principal(), user_id, data["password"])
            except DomainError as exc:
                status = admin_checks.refused(form, exc, FIELDS)
            else:
                pages.commit(_("New password set for %(name)s; give it to them in person.", name=user.username))
                return redirect(url_for("portal_admin.user_list"), code=303)
    elif form.is_submitted():
        status = 422
    return render_template("portal/admin/password.html", form=form, user=user), status


@bp.post("/users/<int:user_id>/active")
@role_required("admin")
@once
def user_active(user_id: int) -> Response:
    """Deactivate (out at the next click, API tokens ended) or reactivate an account."""
    form = ActiveForm()
    active = form.active.data == "1"
    if form.validate_on_submit():
        try:
            user = accounts.set_active(db.session(), current_principal(), user_id, active)
        except DomainError as exc:
            admin_checks.refused_action(exc)
        else:
            if active:
                pages.commit(_("Account %(name)s can sign in again.", name=user.username))
            else:
                pages.commit(_("Account %(name)s is deactivated.", name=user.username))
    return redirect(url_for("portal_admin.user_list"), code=303)
