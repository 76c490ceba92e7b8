"""The region tree in the admin pages: the tree with the grids under each community or
village, adding a node, and renaming or moving one (never under itself or below it).
Checked by the API's schemas (:mod:`broker.registry.region_schema`) and made by the
same domain functions (:mod:`broker.registry.regions`)."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from broker.platform import db
from broker.platform.errors import DomainError, NotFound
from broker.portal import admin_checks, i18n, pages
from broker.portal.admin import bp
from broker.portal.admin_forms import RegionForm
from broker.portal.auth import current_principal, role_required
from broker.portal.once import once
from broker.registry import region_tree, regions
from broker.registry.region_schema import RegionIn, RegionPatch

FIELDS = {name: name for name in ("code", "name", "kind", "parent")}


def _parents(exclude: str | None = None) -> list[tuple[str, str]]:
    """Every node that can hold another (districts, counties, streets, towns), by path;
    ``exclude``: a node being moved, and all below it."""
    tree = region_tree.load(db.session())
    below = {n.code for n in tree.below(tree.by_code[exclude].id)} if exclude else set()
    nodes = [n for n in tree.nodes.values() if n.level < 3 and n.code not in below]
    return sorted(((n.code, tree.path_label(n)) for n in nodes), key=lambda item: item[1])


@bp.get("/regions")
@role_required("admin")
def region_list() -> str:
    """The tree, from each district down, with the grids under each community."""
    tree = regions.read_tree(db.session(), current_principal())
    return render_template("portal/admin/regions.html", tree=tree, kinds=i18n.REGION_KINDS)


@bp.route("/regions/new", methods=["GET", "POST"])
@role_required("admin")
@once
def region_new() -> Response | tuple[str, int] | str:
    form = RegionForm()
    form.set_parents(_parents())
    status = 200
    if form.validate_on_submit():
        data = admin_checks.load(RegionIn(), form.data_for(with_code=True), form, FIELDS)
        if data is None:
            status = 422
        else:
            try:
                region = regions.create_region(db.session(), current_principal(), data)
            except DomainError as exc:
                status = admin_checks.refused(form, exc, FIELDS)
            else:
                pages.commit(_("Region %(name)s (%(code)s) added.", name=region.name, code=region.code))
                return redirect(url_for("portal_admin.region_list"), code=303)
    elif form.is_submitted():
        status = 422
    return render_template("portal/admin/region_form.html", form=form, region=None), status


@bp.route("/regions/<string:code>/edit", methods=["GET", "POST"])
@role_required("admin")
@once
def region_edit(code: str) -> Response | tuple[str, int] | str:
    session = db.session()
    region = regions.region_by_code(session, code)
    if region is None:
        raise NotFound("No such region.")
    parent = session.get(type(region), region.parent_id) if region.parent_id else None
    form = RegionForm(data={"name": region.name, "kind": region.kind, "parent": parent.code if parent else ""})
    form.set_parents(_parents(exclude=code))
    status = 200
    if form.validate_on_submit():
        data = admin_checks.load(RegionPatch(), form.data_for(with_code=False), form, FIELDS)
        if data is None:
            status = 422
        else:
            try:
                regions.update_region(session, current_principal(), code, data)
            except DomainError as exc:
                status = admin_checks.refused(form, exc, FIELDS)
            else:
                pages.commit(_("Region %(code)s saved.", code=code))
                return redirect(url_for("portal_admin.region_list"), code=303)
    elif form.is_submitted():
        status = 422
    return render_template("portal/admin/region_form.html", form=form, region=region), status
