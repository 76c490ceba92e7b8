"""The caseworker's forms for a household's members: adding one (a resident ID checked
as the API checks it; one already registered elsewhere named only where the caseworker
may see it), changing one (a blank ID number keeps the one on record), and recording
that a member died — or correcting that record."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from broker.platform import db
from broker.platform.errors import DomainError, NotFound
from broker.portal import registry_errors
from broker.portal.auth import current_principal, role_required
from broker.portal.caseworker import bp
from broker.portal.household_forms import DeceasedForm, MemberForm
from broker.portal.once import once
from broker.portal.pages import commit
from broker.registry import access_log, household_states, households, members
from broker.registry.household_schema import HouseholdPatch, load_household
from models import Household, Member

EDITABLE = ("name", "relation", "birth_date", "sex", "conditions", "schooling", "employment")


def _member(household: Household, member_id: int) -> Member:
    for member in household.members:
        if member.id == member_id:
            return member
    raise NotFound("No such member.")


def _save(household: Household, form: MemberForm, member: Member | None) -> tuple[int, dict | None] | None:
    """Send the member through the API's schema and the domain; None when saved."""
    data = form.member.form.data_for_domain()
    if member is not None:
        data["id"] = member.id
    try:
        changes = load_household({"members": [data]}, schema=HouseholdPatch)
        households.update_household(db.session(), current_principal(), household.id, changes)
    except DomainError as exc:
        status = registry_errors.refuse(exc)
        registry_errors.attach(form.member.form, exc, registry_errors.member_fields("members.0."))
        return status, registry_errors.duplicate(exc, form.member.form)
    return None


def _page(household: Household, form: MemberForm, member: Member | None, duplicate: dict | None) -> str:
    return render_template(
        "portal/caseworker/member_form.html",
        form=form,
        household=household,
        member=member,
        masked=members.masked_id(member) if member is not None else None,
        duplicate=duplicate,
    )


@bp.route("/households/<int:household_id>/members/new", methods=["GET", "POST"])
@role_required("caseworker", "admin")
@once
def new_member(household_id: int) -> Response | tuple[str, int]:
    """Add a member: name, relation, the resident ID (or the birth date), health,
    schooling and work, each chosen from a list."""
    household = households.get_household(db.session(), current_principal(), household_id, write=True)
    form = MemberForm()
    if request.method == "GET":
        form.member.form.relation.data = "child"
    status, duplicate = 200, None
    if form.validate_on_submit():
        refused = _save(household, form, None)
        if refused is None:
            commit(_("Member added."))
            return redirect(url_for(".household", household_id=household.id))
        status, duplicate = refused
    elif request.method == "POST":
        status = 400
    return _page(household, form, None, duplicate), status


@bp.route("/households/<int:household_id>/members/<int:member_id>/edit", methods=["GET", "POST"])
@role_required("caseworker", "admin")
@once
def edit_member(household_id: int, member_id: int) -> Response | tuple[str, int]:
    """Change a member; the ID number on record is shown masked, and a blank field keeps it."""
    household = households.get_household(db.session(), current_principal(), household_id, write=True)
    member = _member(household, member_id)
    form = MemberForm()
    fields = form.member.form
    fields.has_id_number = member.id_number_enc is not None
    if request.method == "GET":
        access_log.record(
            db.session(), current_principal(), household, f"{request.method} {request.path}", members=[member]
        )
        db.commit()  # the access log of what the form shows
        for name in EDITABLE:
            getattr(fields, name).data = getattr(member, name) or ([] if name == "conditions" else "")
        fields.birth_date.data = member.birth_date
        fields.disability_grade.data = str(member.disability_grade or "")
        fields.disability_kind.data = member.disability_kind or ""
        fields.supporter.data = {True: "yes", False: "no"}.get(member.supporter_able, "")
    status, duplicate = 200, None
    if form.validate_on_submit():
        refused = _save(household, form, member)
        if refused is None:
            commit(_("Member saved."))
            return redirect(url_for(".household", household_id=household.id))
        status, duplicate = refused
    elif request.method == "POST":
        status = 400
    return _page(household, form, member, duplicate), status


@bp.route("/households/<int:household_id>/members/<int:member_id>/deceased", methods=["GET", "POST"])
@role_required("caseworker", "admin")
@once
def member_deceased(household_id: int, member_id: int) -> Response | tuple[str, int]:
    """Record that a member died (kept in the record, left out of the household's facts),
    or correct a death recorded by mistake."""
    session = db.session()
    household = households.get_household(session, current_principal(), household_id, write=True)
    member = _member(household, member_id)
    form = DeceasedForm()
    status = 200
    if form.validate_on_submit():
        try:
            household_states.set_member_deceased(
                session,
                current_principal(),
                household.id,
                member.id,
                form.reason.data,
                deceased=member.deceased_on is None,
                on=form.on.data,
            )
        except DomainError as exc:
            status = registry_errors.refuse(exc)
            registry_errors.attach(form, exc, {"reason": "reason", "on": "on"})
        else:
            commit(_("Saved."))
            return redirect(url_for(".household", household_id=household.id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "portal/caseworker/member_deceased.html", form=form, household=household, member=member
    ), status
