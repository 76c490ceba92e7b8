"""The caseworker's household pages: one household with what is needed first (who, what
is open, what is due) and the rest folded; recording a visit; registering a household on
one of my grids with its head, changing its details, and its state in the registry
(moved away, deceased, out of hardship, back on the list).

Scope is the registry's: a household on another caseworker's grid is "not found".
Auditors and admins may read a household page, but the forms are the caseworker's (the
domain refuses anyone else's writes). The members' own forms are in
:mod:`broker.portal.members`."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from broker.platform import db
from broker.platform.errors import DomainError
from broker.policy import applications
from broker.policy import package as policy_package
from broker.portal import care, consents, registry_errors
from broker.portal.auth import current_principal, role_required
from broker.portal.caseworker import READERS, action_forms, bp
from broker.portal.forms import VisitForm
from broker.portal.household_forms import HouseholdForm, NewHouseholdForm, StateForm
from broker.portal.once import once
from broker.portal.pages import attach_field_errors, commit, refused
from broker.referral import assessment, followup_visits, lifecycle, receipts, referrals, requests, timeline
from broker.registry import grids, household_states, households, members, visits
from broker.registry.household_schema import HouseholdIn, HouseholdPatch, load_household

# The household's own fields, the domain's name → the form's.
HOUSEHOLD_FIELDS = {
    "address": "address",
    "head_name": "head_name",
    "phone": "phone",
    "monthly_income_fen": "income",
    "notes": "notes",
    "residence": "residence",
    "financial_assets_fen": "financial_assets",
    "motor_vehicles": "motor_vehicles",
    "medical_spending_fen": "medical_spending",
    "medical_spending_period": "medical_spending_period",
}


def _household_context(household_id: int) -> dict[str, Any]:
    principal = current_principal()
    session = db.session()
    household = households.read_household(session, principal, household_id, reason=f"{request.method} {request.path}")
    reqs = requests.list_requests(session, principal, household=household.id, per_page=100).items
    apps = [applications.describe(a) for a in applications.list_applications(session, principal, household.id).items]
    return {
        "household": household,
        "members": [(m, members.masked_id(m)) for m in household.members],
        "visits": visits.list_visits(session, principal, household.id, per_page=10),
        "assessments": assessment.view(session, assessment.list_assessments(session, principal, household.id)),
        "open_requests": [r for r in reqs if r.status not in lifecycle.TERMINAL_REQUEST],
        "closed_requests": [r for r in reqs if r.status in lifecycle.TERMINAL_REQUEST],
        "timelines": {r.id: timeline.events(session, r.id) for r in reqs},
        "policy_holds": {r.id: requests.policy_holds_of(session, r) for r in reqs},
        "partner_names": requests.partner_names(session, reqs),
        "package": policy_package.policy_package(session, principal, household.id),
        "applications": apps,
        "due": sorted((a for a in apps if a.get("deadline_at")), key=lambda a: a["deadline_at"]),
        "history": household_states.history(session, principal, household.id),
        "follow_ups": [
            followup_visits.view(f) for f in followup_visits.list_for_household(session, principal, household.id)
        ],
        "can_write": principal.role in ("caseworker", "admin"),
        "manual_offer_ids": referrals.manual_offer_ids(session, reqs),
        "received": receipts.for_household(session, principal, household.id),
        **action_forms(session, principal, back="household"),
        **consents.context(session, principal, household),
        **care.household_context(session, principal, household),
    }


@bp.get("/households/<int:household_id>")
@role_required(*READERS)
def household(household_id: int) -> str:
    """One household: who (members, ID numbers masked), what is open (requests,
    applications), what is due; then, folded, the details, visits, assessments, the
    policy package, closed requests and the history."""
    page = render_template("portal/caseworker/household.html", **_household_context(household_id))
    db.commit()  # the access log of what the page showed
    return page


@bp.route("/households/<int:household_id>/visit", methods=["GET", "POST"])
@role_required("caseworker", "admin")
@once
def visit(household_id: int) -> Response | tuple[str, int]:
    """Record a visit (走访): channel, when, what was found."""
    principal = current_principal()
    session = db.session()
    household = households.get_household(session, principal, household_id, write=True)
    form = VisitForm()
    status = 200
    if form.validate_on_submit():
        when = form.visited_at.data
        try:
            visits.record_visit(
                session,
                principal,
                household.id,
                {"channel": form.channel.data, "visited_at": when, "findings": form.findings.data or ""},
            )
        except DomainError as exc:
            status = refused(exc)
            attach_field_errors(form, exc, {"visited_at": "visited_at", "channel": "channel"})
        else:
            commit(_("Visit recorded."))
            return redirect(url_for(".household", household_id=household.id))
    elif request.method == "POST":
        status = 400
    return render_template("portal/caseworker/visit.html", household=household, form=form), status


@bp.route("/households/new", methods=["GET", "POST"])
@role_required("caseworker")
@once
def new_household() -> Response | tuple[str, int]:
    """Register a household on one of my grids with its first member; a resident ID
    already registered elsewhere is named (a link where I may see that household)."""
    principal = current_principal()
    session = db.session()
    form = NewHouseholdForm()
    form.grid.choices = [
        SelectChoice(g.code, f"{g.community} · {g.name}") for g in grids.list_grids(session, principal).items
    ]
    status, duplicate = 200, None
    if form.validate_on_submit():
        head = form.head.form.data_for_domain()
        body = {**form.data_for_domain(), "grid": form.grid.data, "members": [head]}
        try:
            created = households.create_household(session, principal, load_household(body, schema=HouseholdIn))
        except DomainError as exc:
            status, duplicate = _refused(form, exc, "members.0.", form.head.form)
        else:
            commit(_("Household registered. Add the other members now."))
            return redirect(url_for(".household", household_id=created.id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "portal/caseworker/household_form.html", form=form, household=None, duplicate=duplicate
    ), status


def _refused(form: Any, error: DomainError, prefix: str, member_form: Any) -> tuple[int, dict | None]:
    """A refused household or member: the message, and each complaint beside its field."""
    status = registry_errors.refuse(error)
    registry_errors.attach(form, error, HOUSEHOLD_FIELDS)
    if member_form is not None:
        registry_errors.attach(member_form, error, registry_errors.member_fields(prefix))
    return status, registry_errors.duplicate(error, member_form)


@bp.route("/households/<int:household_id>/edit", methods=["GET", "POST"])
@role_required("caseworker", "admin")
@once
def edit_household(household_id: int) -> Response | tuple[str, int]:
    """Change the household's details (address, phone, income, consent, notes)."""
    principal = current_principal()
    session = db.session()
    household = households.get_household(session, principal, household_id, write=True)
    form = HouseholdForm(obj=household if request.method == "GET" else None)
    if request.method == "GET":
        form.fill(household)
    status = 200
    if form.validate_on_submit():
        try:
            changes = load_household(form.data_for_domain(), schema=HouseholdPatch)
            households.update_household(session, principal, household.id, changes)
        except DomainError as exc:
            status, _dup = _refused(form, exc, "", None)
        else:
            commit(_("Household details saved."))
            return redirect(url_for(".household", household_id=household.id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "portal/caseworker/household_form.html", form=form, household=household, duplicate=None
    ), status


@bp.route("/households/<int:household_id>/state", methods=["GET", "POST"])
@role_required("caseworker", "admin")
@once
def household_state(household_id: int) -> Response | tuple[str, int]:
    """Moved away, deceased (a household of one), out of hardship — or back on the
    active list — with the reason, which goes on the record."""
    principal = current_principal()
    session = db.session()
    household = households.get_household(session, principal, household_id, write=True)
    form = StateForm()
    single = len(household_states.living(household)) <= 1
    form.state.choices = [
        c for c in form.state.choices if c.value != household.state and (c.value != "deceased" or single)
    ]
    status = 200
    if form.validate_on_submit():
        try:
            household_states.set_state(session, principal, household.id, form.state.data, form.reason.data)
        except DomainError as exc:
            status = registry_errors.refuse(exc)
            registry_errors.attach(form, exc, {"reason": "reason", "state": "state"})
        else:
            commit(_("The household's state is saved."))
            return redirect(url_for(".household", household_id=household.id))
    elif request.method == "POST":
        status = 400
    return render_template("portal/caseworker/household_state.html", form=form, household=household), status
