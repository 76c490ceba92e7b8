"""Partners in the admin pages: the list with their funds, adding one and editing it —
kind, categories and grids served, limits, the adapter chosen among those installed and
its settings (a form generated from the adapter's own schema, :mod:`.admin_adapters`) —
and activating or deactivating it. Checked by the API's schemas
(:mod:`broker.referral.partner_schema`) and made by the same domain functions.

Choosing another adapter reloads the page with that adapter's settings (``?adapter=``),
so that the page works without JavaScript."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import Schema
from werkzeug.wrappers import Response

from broker.money import funds
from broker.platform import adapter_registry, db
from broker.platform.errors import DomainError, Invalid
from broker.portal import admin_adapters, admin_checks, pages
from broker.portal.admin import bp
from broker.portal.admin_forms import ActiveForm, PartnerForm
from broker.portal.auth import current_principal, role_required
from broker.portal.once import once
from broker.referral import partners
from broker.referral.partner_schema import PartnerIn, PartnerPatch
from broker.registry import grids
from models import Partner

FIELDS = {
    "name": "name",
    "kind": "kind",
    "categories": "categories",
    "regions": "regions",
    "max_amount_fen": "max_amount",
    "respond_within_hours": "respond_within_hours",
    "contact": "contact",
    "active": "active",
}
DEFAULT_ADAPTER = "portal"


@bp.get("/partners")
@role_required("admin")
def partner_list() -> str:
    session = db.session()
    listed = partners.list_partners(session, current_principal(), per_page=500).items
    held = [(p, funds.balances(session, p.id)) for p in listed]
    return render_template(
        "portal/admin/partners.html",
        partners=held,
        adapter_label=admin_adapters.adapter_label,
        toggle_form=ActiveForm(),
    )


def _chosen_adapter(current: str | None = None) -> str:
    """The adapter the form is for: the one posted or asked for (``?adapter=``), else
    the partner's own, else the portal inbox. One not installed is refused by name."""
    wanted = (request.form.get("adapter") if request.method == "POST" else request.args.get("adapter")) or current
    installed = admin_adapters.installed()
    if not wanted:
        return DEFAULT_ADAPTER if DEFAULT_ADAPTER in installed else installed[0]
    adapter_registry.get(wanted)
    return wanted


def _grid_choices() -> list[tuple[str, str]]:
    listed = grids.list_grids(db.session(), current_principal(), per_page=500).items
    return [(g.code, g.name) for g in listed]


def _checked(schema: Schema, form: PartnerForm, adapter: str, names: dict[str, str]) -> dict[str, Any] | None:
    """The form's data as the partner schema loads it. When it is refused, the settings
    are checked by the adapter's schema too (what is given), so that every reason shows
    at once; the domain checks them again, whole, when the rest is right."""
    sent = {**form.data_for(), "adapter": adapter, "adapter_config": admin_adapters.config_from(form, adapter)}
    data = admin_checks.load(schema, sent, form, names)
    if data is None:
        try:
            adapter_registry.validate_config(adapter, sent["adapter_config"], partial=True)
        except Invalid as exc:
            admin_checks.attach(form, exc.details, names)
    return data


def _render(form: PartnerForm, adapter: str, partner: Partner | None, status: int) -> tuple[str, int]:
    return render_template(
        "portal/admin/partner_form.html",
        form=form,
        partner=partner,
        adapter=adapter,
        adapters=[(name, admin_adapters.adapter_label(name)) for name in admin_adapters.installed()],
        description=admin_adapters.adapter_description(adapter),
        config_fields=admin_adapters.config_fields(form),
    ), status


@bp.route("/partners/new", methods=["GET", "POST"])
@role_required("admin")
@once
def partner_new() -> Response | tuple[str, int]:
    adapter = _chosen_adapter()
    form = admin_adapters.partner_form(adapter)
    form.set_grids(_grid_choices())
    names = {**FIELDS, **admin_adapters.names_map(adapter)}
    status = 200
    if form.validate_on_submit():
        data = _checked(PartnerIn(), form, adapter, names)
        status = 422
        if data is not None:
            try:
                partner = partners.create_partner(db.session(), current_principal(), data)
            except DomainError as exc:
                status = admin_checks.refused(form, exc, names)
            else:
                pages.commit(_("Partner %(name)s added.", name=partner.name))
                return redirect(url_for("portal_admin.partner_list"), code=303)
    elif form.is_submitted():
        status = 422
    return _render(form, adapter, None, status)


def _stored(partner: Partner) -> dict[str, Any]:
    """The partner's fields as the form shows them (secrets never)."""
    return {
        "name": partner.name,
        "kind": partner.kind,
        "categories": list(partner.categories or []),
        "regions": list(partner.regions or []),
        "max_amount": partner.max_amount_fen,
        "respond_within_hours": str(partner.respond_within_hours),
        "contact": partner.contact,
        "active": partner.active,
        **admin_adapters.shown_config(partner.adapter_config, partner.adapter),
    }


@bp.route("/partners/<int:partner_id>/edit", methods=["GET", "POST"])
@role_required("admin")
@once
def partner_edit(partner_id: int) -> Response | tuple[str, int]:
    session = db.session()
    partner = partners.get_partner(session, current_principal(), partner_id)
    adapter = _chosen_adapter(partner.adapter)
    stored = partner.adapter_config if adapter == partner.adapter else {}
    form = admin_adapters.partner_form(adapter, stored=stored, data=_stored(partner))
    form.set_grids(_grid_choices())
    names = {**FIELDS, **admin_adapters.names_map(adapter)}
    status = 200
    if form.validate_on_submit():
        data = _checked(PartnerPatch(), form, adapter, names)
        status = 422
        if data is not None:
            try:
                partners.update_partner(session, current_principal(), partner_id, data)
            except DomainError as exc:
                status = admin_checks.refused(form, exc, names)
            else:
                pages.commit(_("Partner %(name)s saved.", name=partner.name))
                return redirect(url_for("portal_admin.partner_list"), code=303)
    elif form.is_submitted():
        status = 422
    return _render(form, adapter, partner, status)


@bp.post("/partners/<int:partner_id>/active")
@role_required("admin")
@once
def partner_active(partner_id: int) -> Response:
    """Activate or deactivate: routing offers requests only to active partners."""
    form = ActiveForm()
    active = form.active.data == "1"
    if form.validate_on_submit():
        try:
            partner = partners.update_partner(db.session(), current_principal(), partner_id, {"active": active})
        except DomainError as exc:
            admin_checks.refused_action(exc)
        else:
            if active:
                pages.commit(_("%(name)s is active again.", name=partner.name))
            else:
                pages.commit(_("%(name)s is deactivated: no new offers go to it.", name=partner.name))
    return redirect(url_for("portal_admin.partner_list"), code=303)
