"""Grids in the admin pages: the list with the caseworkers on each, adding one and
correcting its names (its code stays). Checked by the API's schemas
(:mod:`broker.registry.grid_schema`) and made by the same domain functions."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from broker.platform import db
from broker.platform.errors import DomainError, NotFound
from broker.portal import admin_checks, pages
from broker.portal.admin import bp
from broker.portal.admin_forms import GridForm
from broker.portal.auth import current_principal, role_required
from broker.portal.once import once
from broker.registry import grids
from broker.registry.grid_schema import GridIn, GridPatch

FIELDS = {name: name for name in ("code", "name", "district", "street", "community")}


@bp.get("/grids")
@role_required("admin")
def grid_list() -> str:
    session = db.session()
    listed = grids.list_grids(session, current_principal(), per_page=500)
    holders = grids.caseworkers_by_grid(session, {g.id for g in listed.items})
    return render_template("portal/admin/grids.html", grids=listed.items, holders=holders)


@bp.route("/grids/new", methods=["GET", "POST"])
@role_required("admin")
@once
def grid_new() -> Response | tuple[str, int] | str:
    form = GridForm()
    status = 200
    if form.validate_on_submit():
        data = admin_checks.load(GridIn(), form.data_for(with_code=True), form, FIELDS)
        if data is None:
            status = 422
        else:
            try:
                grid = grids.create_grid(db.session(), current_principal(), data)
            except DomainError as exc:
                status = admin_checks.refused(form, exc, FIELDS)
            else:
                pages.commit(_("Grid %(name)s (%(code)s) added.", name=grid.name, code=grid.code))
                return redirect(url_for("portal_admin.grid_list"), code=303)
    elif form.is_submitted():
        status = 422
    return render_template("portal/admin/grid_form.html", form=form, grid=None), status


@bp.route("/grids/<string:code>/edit", methods=["GET", "POST"])
@role_required("admin")
@once
def grid_edit(code: str) -> Response | tuple[str, int] | str:
    session = db.session()
    grid = grids.grid_by_code(session, code)
    if grid is None:
        raise NotFound("No such grid.")
    form = GridForm(obj=grid)
    status = 200
    if form.validate_on_submit():
        data = admin_checks.load(GridPatch(), form.data_for(with_code=False), form, FIELDS)
        if data is None:
            status = 422
        else:
            try:
                grids.update_grid(session, current_principal(), code, data)
            except DomainError as exc:
                status = admin_checks.refused(form, exc, FIELDS)
            else:
                pages.commit(_("Grid %(code)s saved.", code=code))
                return redirect(url_for("portal_admin.grid_list"), code=303)
    elif form.is_submitted():
        status = 422
    return render_template("portal/admin/grid_form.html", form=form, grid=grid), status
