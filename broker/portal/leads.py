"""Leads in the portal: the mobile grid member's sign-up (``/reporters/join``), the
reporter's phone page — the report form and its own reports with whether someone went —
and the caseworker's list of leads and the lead page, where the visit is recorded
(linking a household, or recording a new one) or the lead closed with a reason."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from broker.community import lead_schema, leads, reporters
from broker.platform import db
from broker.platform.errors import DomainError
from broker.portal import limits
from broker.portal.auth import current_principal, role_required
from broker.portal.errors import domain_message
from broker.portal.lead_forms import (
    CLOSE_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    URGENCY_LABELS,
    CloseLeadForm,
    LeadForm,
    ReporterSignUpForm,
    VisitLeadForm,
)
from broker.portal.once import once
from broker.portal.pages import attach_field_errors, commit
from broker.registry import grids, households
from models import Grid, Reporter

bp = Blueprint("portal_leads", __name__)
HANDLERS = leads.HANDLERS
LABELS = {
    "urgencies": URGENCY_LABELS,
    "statuses": STATUS_LABELS,
    "close_reasons": CLOSE_LABELS,
    "reporter_kinds": KIND_LABELS,
}
SIGN_UP_FIELDS = {k: k for k in ("name", "phone", "kind", "organisation", "username", "password", "consent")}
LEAD_FIELDS = {k: k for k in ("address", "community", "seen", "urgency", "photo")}
VISIT_FIELDS = {"household_id": "household", "household.grid": "grid", "household.head_name": "head_name"}


def said(error: DomainError) -> str:
    """This page's refusals in the reader's language."""
    return {
        "username_taken": _("This username is taken: choose another."),
        "where_unknown": _("Say which community the household is in, so that its caseworker gets the report."),
        "unknown_community": _("There is no community of that name: check it, or write it into the address."),
        "unknown_grid": _("There is no grid of that code."),
        "not_an_image": _("The photo is not an image: take it again or leave it out."),
        "file_too_large": _("The photo is too large: at most 8 MB."),
        "invalid_transition": _("This lead was already handled."),
        "household_elsewhere": _("This household is in another community than the lead."),
    }.get(error.code) or domain_message(error)


def turned_away(error: DomainError) -> None:
    db.session.rollback()
    if error.status in (401, 403, 404):
        raise error
    flash(said(error), "error")


@bp.route("/reporters/join", methods=["GET", "POST"])
@limits.reporter_signup_limit
def join() -> Response | tuple[str, int]:
    """Anyone signs up as a mobile grid member and can report at once."""
    form = ReporterSignUpForm()
    status = 200
    if form.validate_on_submit():
        data = {
            "name": form.name.data.strip(),
            "phone": form.phone.data.strip(),
            "kind": form.kind.data,
            "organisation": (form.organisation.data or "").strip(),
            "username": form.username.data.strip(),
            "password": form.password.data,
            "consent": bool(form.consent.data),
        }
        try:
            reporters.sign_up(db.session(), lead_schema.load(lead_schema.ReporterIn, data))
        except DomainError as exc:
            turned_away(exc)
            attach_field_errors(form, exc, SIGN_UP_FIELDS)
            status = exc.status
        else:
            commit(_("Thank you for signing up. Sign in to report a household that may need help."))
            return redirect(url_for("portal_auth.login"), code=303)
    elif form.is_submitted():
        status = 400
    return render_template("portal/leads/join.html", form=form), status


def _reporter_page(form: LeadForm | None = None, status: int = 200) -> tuple[str, int]:
    principal, session = current_principal(), db.session()
    reporter = reporters.reporter_of(session, principal)
    return (
        render_template(
            "portal/leads/reporter.html",
            reporter=reporter,
            form=form or LeadForm(),
            mine=leads.listing(session, principal),
            **LABELS,
        ),
        status,
    )


@bp.get("/reporter/")
@role_required(reporters.ROLE)
def home() -> tuple[str, int]:
    """The reporter's phone: the report form, then its own reports and what came of them."""
    return _reporter_page()


@bp.post("/reporter/leads")
@role_required(reporters.ROLE)
@once
def report() -> Response | tuple[str, int]:
    """Send a report (with a photo from the camera, if taken)."""
    form = LeadForm()
    if not form.validate_on_submit():
        return _reporter_page(form, 400)
    sent = form.photo.data
    photo = sent.read() if sent and getattr(sent, "filename", "") else None
    data = {
        "address": form.address.data.strip(),
        "seen": form.seen.data.strip(),
        "urgency": form.urgency.data,
        **({"community": form.community.data.strip()} if (form.community.data or "").strip() else {}),
    }
    try:
        leads.report(db.session(), current_principal(), lead_schema.load(lead_schema.LeadIn, data), photo)
    except DomainError as exc:
        turned_away(exc)
        attach_field_errors(form, exc, LEAD_FIELDS)
        return _reporter_page(form, exc.status)
    commit(_("Thank you. The caseworker of the household's grid will visit; you will see here when someone went."))
    return redirect(url_for(".home"), code=303)


@bp.get("/caseworker/leads")
@role_required(*HANDLERS)
def lead_list() -> str:
    """The leads of my grids: those still to visit first, then the handled ones."""
    found = leads.listing(db.session(), current_principal())
    waiting = leads.waiting(db.session(), current_principal())
    done = [lead for lead in found if lead.status != "new"][:50]
    return render_template("portal/leads/list.html", waiting=waiting, done=done, **LABELS)


def _visit_form(lead: Any, form: VisitLeadForm | None = None) -> VisitLeadForm:
    principal, session = current_principal(), db.session()
    form = form or VisitLeadForm(formdata=None)
    mine = households.list_households(session, principal, state="active", per_page=200).items
    form.household.choices = [SelectChoice(0, _("A new household, recorded now"))] + [
        SelectChoice(h.id, f"{h.head_name or _('(no name)')} · {h.address}") for h in mine
    ]
    my_grids = grids.list_grids(session, principal, per_page=200).items
    form.grid.choices = [SelectChoice(g.code, f"{g.community} · {g.name} ({g.code})") for g in my_grids]
    if lead.grid_id and form.grid.data is None:
        grid = session.get(Grid, lead.grid_id)
        form.grid.data = grid.code if grid else None
    return form


def _lead_page(lead_id: int, visit: VisitLeadForm | None = None, status: int = 200) -> tuple[str, int]:
    principal, session = current_principal(), db.session()
    lead = leads.get(session, principal, lead_id)
    grid = session.get(Grid, lead.grid_id) if lead.grid_id else None
    return (
        render_template(
            "portal/leads/lead.html",
            lead=lead,
            grid=grid,
            reporter=session.get(Reporter, lead.reporter_id),
            visit=_visit_form(lead, visit),
            close=CloseLeadForm(formdata=None),
            **LABELS,
        ),
        status,
    )


@bp.get("/caseworker/leads/<int:lead_id>")
@role_required(*HANDLERS)
def lead_page(lead_id: int) -> tuple[str, int]:
    """One lead: what the reporter saw, the photo, who reported it; the visit or the close."""
    return _lead_page(lead_id)


def _visit_data(form: VisitLeadForm, lead: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"findings": (form.findings.data or "").strip()}
    if form.household.data:
        data["household_id"] = form.household.data
        return data
    head = (form.head_name.data or "").strip()
    born = form.birth_date.data.isoformat() if form.birth_date.data else None
    income = int((form.income_yuan.data or Decimal(0)) * 100)
    household: dict[str, Any] = {
        "grid": form.grid.data or "",
        "address": lead.address,
        "head_name": head,
        "monthly_income_fen": income,
        "members": [{"name": head, "relation": "head", "birth_date": born, "sex": form.sex.data}],
    }
    if (form.phone.data or "").strip():
        household["phone"] = form.phone.data.strip()
    data["household"] = household
    return data


@bp.post("/caseworker/leads/<int:lead_id>/visit")
@role_required(*HANDLERS)
@once
def visit(lead_id: int) -> Response | tuple[str, int]:
    """Record the visit from the lead."""
    principal, session = current_principal(), db.session()
    lead = leads.get(session, principal, lead_id)
    form = _visit_form(lead, VisitLeadForm())
    if not form.validate_on_submit():
        return _lead_page(lead_id, form, 400)
    try:
        data = lead_schema.load(lead_schema.LeadVisitIn, _visit_data(form, lead))
        leads.visit(session, principal, lead_id, data)
    except DomainError as exc:
        turned_away(exc)
        attach_field_errors(form, exc, VISIT_FIELDS)
        if any(k.startswith("household.members") for k in exc.details or {}):
            form.birth_date.errors = [*form.birth_date.errors, _("Give the head's name and date of birth.")]
        return _lead_page(lead_id, form, exc.status)
    commit(_("Visit recorded. The reporter sees that someone went."))
    return redirect(url_for(".lead_page", lead_id=lead_id), code=303)


@bp.post("/caseworker/leads/<int:lead_id>/close")
@role_required(*HANDLERS)
@once
def close(lead_id: int) -> Response:
    """Close the lead with a reason."""
    form = CloseLeadForm()
    if form.validate_on_submit():
        try:
            leads.close(db.session(), current_principal(), lead_id, form.reason.data)
        except DomainError as exc:
            turned_away(exc)
        else:
            commit(_("Lead closed."))
    else:
        flash(_("Pick why you close it."), "error")
    return redirect(url_for(".lead_page", lead_id=lead_id), code=303)


@bp.get("/caseworker/leads/<int:lead_id>/photo")
@role_required(*HANDLERS)
def photo(lead_id: int) -> Response:
    """The reporter's photo, only to the lead's caseworkers; never cached."""
    data, content_type = leads.photo(db.session(), current_principal(), lead_id)
    response = Response(data, mimetype=content_type)
    response.headers["Content-Disposition"] = f'inline; filename="lead-{lead_id}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
