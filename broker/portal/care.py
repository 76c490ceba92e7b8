"""Care pages (关爱): a household's members in special groups and their care plans (on
the household page and their own forms), a plan with its contacts and the form a carer
or caseworker fills in on a phone after a contact, the plans a partner's carers are
named on, and the care figures with charts, the coverage list (who in a group has no
plan) and the XLSX export.

Thin over :mod:`broker.community` and :mod:`broker.registry.special_groups`: a view
parses the form, calls the domain, commits and shows what happened."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from wtforms.fields.choices import SelectChoice

from broker.community import camps, care_contacts, care_figures, care_plans, care_report_file, group_endings
from broker.platform import db, periods
from broker.platform.errors import DomainError
from broker.platform.scope import Principal
from broker.portal import charts, i18n
from broker.portal.auth import current_principal, role_required
from broker.portal.care_forms import CampForm, CarePlanForm, ContactForm, GroupEndForm, SpecialGroupForm
from broker.portal.once import once
from broker.portal.pages import attach_field_errors, commit, page_arg, refused
from broker.registry import grids, households, special_groups
from models import Household, SpecialGroupMember

bp = Blueprint("portal_care", __name__, url_prefix="/care")

STAFF = ("caseworker", "auditor", "admin")
READERS = (*STAFF, "partner")


def household_context(session: Session, principal: Principal, household: Household) -> dict[str, Any]:
    """What the household page shows of care: members in special groups, and plans."""
    names = {m.id: m.name for m in household.members}
    plans = care_plans.list_plans(session, principal, household_id=household.id, per_page=50).items
    return {
        "special_groups": [(g, names.get(g.member_id, "")) for g in special_groups.of_household(session, household.id)],
        "care_plans": [(p, names.get(p.member_id, "")) for p in plans],
    }


@bp.route("/households/<int:household_id>/special-groups", methods=["GET", "POST"])
@role_required("caseworker", "admin")
@once
def special_group(household_id: int) -> Response | tuple[str, int]:
    """Record a member in a special group: which group, how it is known, since when."""
    principal, session = current_principal(), db.session()
    household = households.get_household(session, principal, household_id, write=True)
    form = SpecialGroupForm()
    form.member.choices = [SelectChoice(m.id, m.name) for m in household.members if m.deceased_on is None]
    status = 200
    if form.validate_on_submit():
        data = {
            "member_id": form.member.data,
            "group": form.group.data,
            "source": form.source.data,
            "known_on": form.known_on.data,
        }
        try:
            special_groups.record(session, principal, household.id, data)
        except DomainError as exc:
            status = refused(exc)
            attach_field_errors(form, exc, {"member_id": "member", "group": "group", "known_on": "known_on"})
        else:
            commit(_("Special group recorded."))
            return redirect(url_for("portal_caseworker.household", household_id=household.id, _anchor="care"))
    elif form.is_submitted():
        status = 400
    return render_template("portal/care/special_group.html", household=household, form=form), status


@bp.route("/households/<int:household_id>/special-groups/<int:record_id>/end", methods=["GET", "POST"])
@role_required("caseworker", "admin")
@once
def end_group(household_id: int, record_id: int) -> Response | tuple[str, int]:
    """Record that a member left a special group (and so its care plans end)."""
    principal, session = current_principal(), db.session()
    household = households.get_household(session, principal, household_id, write=True)
    record = session.get(SpecialGroupMember, record_id)
    if record is None or record.household_id != household.id:
        abort(404)
    member = next((m for m in household.members if m.id == record.member_id), None)
    form = GroupEndForm()
    status = 200
    if form.validate_on_submit():
        data = {"reason": form.reason.data, "ended_on": form.ended_on.data}
        try:
            _row, plans = group_endings.leave_group(session, principal, household.id, record.id, data)
        except DomainError as exc:
            status = refused(exc)
            attach_field_errors(form, exc, {"reason": "reason", "ended_on": "ended_on"})
        else:
            commit(
                _("Recorded: the member has left the group; %(n)s care plan(s) ended with it.", n=len(plans))
                if plans
                else _("Recorded: the member has left the group.")
            )
            return redirect(url_for("portal_caseworker.household", household_id=household.id, _anchor="care"))
    elif form.is_submitted():
        status = 400
    return (
        render_template("portal/care/end_group.html", household=household, record=record, member=member, form=form),
        status,
    )


@bp.route("/households/<int:household_id>/plans/new", methods=["GET", "POST"])
@role_required("caseworker", "admin")
@once
def new_plan(household_id: int) -> Response | tuple[str, int]:
    """Make a care plan for a member in a special group: its kind, schedule and carers."""
    principal, session = current_principal(), db.session()
    household = households.get_household(session, principal, household_id, write=True)
    names = {m.id: m.name for m in household.members}
    form = CarePlanForm()
    form.who.choices = [
        SelectChoice(f"{g.member_id}:{g.group}", f"{names.get(g.member_id, '')} · {special_groups.group_name(g.group)}")
        for g in special_groups.of_household(session, household.id)
        if g.ended_on is None
    ]
    status = 200
    if form.validate_on_submit():
        member_id, group = form.who.data.split(":", 1)
        data = {
            "household_id": household.id,
            "member_id": int(member_id),
            "group": group,
            "kind": form.kind.data,
            "schedule": form.schedule.data,
            "starts_on": form.starts_on.data,
            "carers": form.carers(),
        }
        try:
            plan = care_plans.create_plan(session, principal, data)
        except DomainError as exc:
            status = refused(exc)
        else:
            commit(_("Care plan made. The first contact is due %(date)s.", date=i18n.format_date(plan.next_due_at)))
            return redirect(url_for(".plan", plan_id=plan.id))
    elif form.is_submitted():
        status = 400
    return render_template("portal/care/plan_new.html", household=household, form=form), status


def _plan_page(plan_id: int, form: ContactForm | None = None, status: int = 200) -> tuple[str, int]:
    principal, session = current_principal(), db.session()
    plan = care_plans.get_plan(session, principal, plan_id)
    shown = care_plans.view(session, principal, plan)
    contacts = [
        care_contacts.view(session, principal, c) for c in care_contacts.list_contacts(session, principal, plan.id)
    ]
    can_record = principal.role in ("caseworker", "admin", "partner") and plan.status == "active"
    if can_record and form is None:
        form = ContactForm()
    if form is not None:
        form.carer.choices = [SelectChoice(c["id"], c["name"]) for c in shown["carers"]]
    carers = {c["id"]: c["name"] for c in shown["carers"]}
    page = render_template(
        "portal/care/plan.html",
        plan=shown,
        contacts=contacts,
        carers=carers,
        form=form if can_record else None,
        can_open_need=principal.role in ("caseworker", "admin"),
        can_end=principal.role in ("caseworker", "admin") and plan.status == "active",
    )
    return page, status


@bp.get("/plans/<int:plan_id>")
@role_required(*READERS)
def plan(plan_id: int) -> tuple[str, int]:
    """A care plan: who, the carers, when the next contact is due, the contacts so far."""
    return _plan_page(plan_id)


@bp.post("/plans/<int:plan_id>/contacts")
@role_required("caseworker", "admin", "partner")
@once
def record_contact(plan_id: int) -> Response | tuple[str, int]:
    """Record a contact made under the plan (on a phone, right after it)."""
    principal, session = current_principal(), db.session()
    found = care_plans.get_plan(session, principal, plan_id, write=True)
    form = ContactForm()
    form.carer.choices = [SelectChoice(pc.carer_id, pc.carer.name) for pc in found.carers]
    if not form.validate_on_submit():
        return _plan_page(plan_id, form, 400)
    when = form.contacted_at.data
    data = {
        "carer_id": form.carer.data,
        "channel": form.channel.data,
        "contacted_at": when.replace(tzinfo=periods.local_zone()) if when else None,
        "summary": form.summary.data or "",
        "concerns": form.concerns.data or "",
        "new_need": form.new_need_data() if principal.role in ("caseworker", "admin") else None,
    }
    try:
        contact = care_contacts.record(session, principal, found.id, data)
    except DomainError as exc:
        status = refused(exc)
        attach_field_errors(form, exc, {"carer_id": "carer", "contacted_at": "contacted_at", "channel": "channel"})
        return _plan_page(plan_id, form, status)
    if contact.on_time:
        commit(_("Contact recorded, on time."))
    else:
        commit(_("Contact recorded, after its due date."))
    return redirect(url_for(".plan", plan_id=found.id, _anchor="contacts"))


@bp.post("/plans/<int:plan_id>/end")
@role_required("caseworker", "admin")
def end_plan(plan_id: int) -> Response | tuple[str, int]:
    """End the plan, with the reason given on its page."""
    principal, session = current_principal(), db.session()
    try:
        care_plans.end_plan(session, principal, plan_id, request.form.get("reason", ""))
    except DomainError as exc:
        return _plan_page(plan_id, None, refused(exc))
    commit(_("Care plan ended: no contact falls due any more."))
    return redirect(url_for(".plan", plan_id=plan_id))


@bp.get("/plans")
@role_required(*READERS)
def plans() -> str:
    """The plans one may see, the soonest contact due first (a partner: the plans its carers are on)."""
    principal, session = current_principal(), db.session()
    found = care_plans.list_plans(session, principal, status="active", page=page_arg(request.args.get("page")))
    return render_template(
        "portal/care/plans.html", found=found, items=[care_plans.view(session, principal, p) for p in found.items]
    )


@bp.get("/")
@role_required(*STAFF)
def report() -> str:
    """The care figures with charts, and who in a special group has no plan, by grid."""
    principal, session = current_principal(), db.session()
    found = care_figures.figures(session, principal)
    return render_template(
        "portal/care/report.html",
        figures=found,
        charts=_charts(found),
        uncovered=care_figures.without_plan(session, principal),
    )


def _charts(found: care_figures.CareFigures) -> list[dict[str, Any]]:
    """Contacts (on time, late, missed) and, per group, members with and without a plan."""
    contact_rows = [
        (_("On time"), found.contacts_on_time),
        (_("Late"), found.contacts_late),
        (_("Missed"), found.contacts_missed),
    ]
    group_rows = [(i18n.label(g, "special_group"), n) for g, n in found.without_plan.items() if found.in_group[g]]
    return [
        {
            "id": "care-contacts",
            "title": _("Contacts due: on time, late, missed"),
            "svg": charts.bar_chart(
                [(label, n, str(n)) for label, n in contact_rows],
                chart_id="care-contacts",
                title=_("Contacts due: on time, late, missed"),
                empty=_("No contact was due yet."),
            ),
        },
        {
            "id": "care-uncovered",
            "title": _("Members without a care plan, by group"),
            "svg": charts.bar_chart(
                [(label, n, str(n)) for label, n in group_rows],
                chart_id="care-uncovered",
                title=_("Members without a care plan, by group"),
                empty=_("Nobody is recorded in a special group yet."),
            ),
        },
    ]


@bp.get("/report.xlsx")
@role_required(*STAFF)
def export() -> Response:
    """The care figures as an XLSX workbook."""
    file = care_report_file.export_care_report(db.session(), current_principal())
    response = Response(file.content, mimetype=file.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response


@bp.route("/camps", methods=["GET", "POST"])
@role_required(*STAFF)
@once
def camp_sessions() -> Response | tuple[str, int]:
    """Growth-camp sessions (成长营) on one's grids, and the form to record one held."""
    principal, session = current_principal(), db.session()
    form = CampForm() if principal.role in ("caseworker", "admin") else None
    status = 200
    if form is not None:
        form.grid.choices = [
            SelectChoice(g.code, f"{g.community} · {g.name}")
            for g in grids.list_grids(session, principal, per_page=200).items
        ]
        form.children.choices = [
            SelectChoice(p.id, f"{name} · {code}") for p, name, code in camps.mentored(session, principal)
        ]
        if form.validate_on_submit():
            data = {
                "grid": form.grid.data,
                "title": form.title.data,
                "held_on": form.held_on.data,
                "notes": form.notes.data or "",
                "plan_ids": form.children.data or [],
            }
            try:
                camps.record_session(session, principal, data)
            except DomainError as exc:
                status = refused(exc)
                attach_field_errors(form, exc, {"held_on": "held_on", "plan_ids": "children", "grid": "grid"})
            else:
                commit(_("Camp session recorded."))
                return redirect(url_for(".camp_sessions"))
        elif form.is_submitted():
            status = 400
    elif request.method == "POST":
        status = 403
    found = camps.list_sessions(session, principal, page=page_arg(request.args.get("page")))
    items = [camps.view(session, c) for c in found.items]
    return render_template("portal/care/camps.html", form=form, found=found, items=items), status
