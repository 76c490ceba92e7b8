"""The volunteer pages of those around the volunteers: the team leader's page (sign-ups
to approve, tasks handed out, a new task from an accepted offer, a member's
certificate), the caseworker's list of visits the family is to confirm, and the
volunteer figures with their charts and XLSX export."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from broker.community import (
    certificates,
    confirmations,
    task_changes,
    tasks,
    teams,
    volunteer_figures,
    volunteers,
)
from broker.platform import db, periods
from broker.platform.errors import DomainError
from broker.portal import charts, i18n
from broker.portal.auth import current_principal, role_required
from broker.portal.once import once
from broker.portal.pages import attach_field_errors, commit
from broker.portal.volunteer_forms import (
    CANCEL_REASONS,
    CLAIM_STATUSES,
    TASK_KIND_LABELS,
    TASK_STATUSES,
    VOLUNTEER_STATUSES,
    ActForm,
    CancelTaskForm,
    DecisionForm,
    PeriodForm,
    TaskForm,
)
from broker.portal.volunteers import turned_away
from models.base import utcnow

bp = Blueprint("portal_volunteer_teams", __name__)
REPORT_READERS = volunteer_figures.READERS
LABELS = {"kinds": TASK_KIND_LABELS, "claim_statuses": CLAIM_STATUSES, "task_statuses": TASK_STATUSES}


def _aware(moment: datetime | None) -> datetime | None:
    """A time typed on the phone (local wall clock) as UTC."""
    return None if moment is None else moment.replace(tzinfo=periods.local_zone()).astimezone(UTC)


def _team_page(form: TaskForm | None = None, status: int = 200) -> tuple[str, int]:
    principal, session = current_principal(), db.session()
    team = teams.require_leader(session, principal, principal.partner_id or 0)
    offers = tasks.takeable_offers(session, principal, team.id)
    form = form or TaskForm()
    form.offer_id.choices = [SelectChoice(0, _("The team's own work (no family)"))] + [
        SelectChoice(o.id, _("No. %(id)s · %(what)s", id=o.id, what=i18n.label(r.category, "category")))
        for o, r in offers
    ]
    return render_template(
        "portal/volunteers/team.html",
        team=team,
        pending=volunteers.listing(session, principal, team_id=team.id, status="pending"),
        members=volunteers.listing(session, principal, team_id=team.id, status="active"),
        team_tasks=[(t, tasks.claims_of(session, t.id)) for t in tasks.of_team(session, principal, team.id)],
        form=form,
        decide=DecisionForm(),
        cancel=CancelTaskForm(formdata=None),
        cancel_reasons=CANCEL_REASONS,
        local=periods.to_local,
        volunteer_statuses=VOLUNTEER_STATUSES,
        **LABELS,
    ), status


@bp.app_context_processor
def _team_nav() -> dict[str, bool]:
    """Whether the signed-in partner user leads a volunteer team (its menu shows the team)."""
    if not current_user or not getattr(current_user, "is_authenticated", False) or current_user.role != "partner":
        return {"leads_volunteer_team": False}
    return {"leads_volunteer_team": teams.is_team(db.session(), current_user.partner_id)}


@bp.get("/partner/team")
@role_required("partner")
def team() -> tuple[str, int]:
    """The leader's page: sign-ups to decide, members, tasks, a new task. The users of a
    partner that is not a volunteer team are told so."""
    if not teams.is_team(db.session(), current_principal().partner_id):
        return render_template("portal/volunteers/not_a_team.html"), 200
    return _team_page()


@bp.post("/partner/team/tasks")
@role_required("partner")
@once
def new_task() -> Response | tuple[str, int]:
    principal = current_principal()
    form = TaskForm()
    form.offer_id.choices = []
    if not form.validate_on_submit():
        return _team_page(form, 400)
    data = {
        "offer_id": form.offer_id.data or None,
        "kind": form.kind.data,
        "title": form.title.data,
        "place": form.place.data,
        "starts_at": _aware(form.starts_at.data),
        "ends_at": _aware(form.ends_at.data),
        "slots": form.slots.data,
    }
    try:
        tasks.create(db.session(), principal, principal.partner_id or 0, data)
    except DomainError as exc:
        turned_away(exc)
        attach_field_errors(form, exc, {"ends_at": "ends_at", "offer_id": "offer_id"})
        return _team_page(form, exc.status)
    commit(_("The task is on your members' phones."))
    return redirect(url_for(".team"), code=303)


@bp.post("/partner/team/tasks/<int:task_id>/cancel")
@role_required("partner")
@once
def cancel_task(task_id: int) -> Response:
    """The leader cancels an open task with a reason; its volunteers are told."""
    form = CancelTaskForm()
    if not form.validate_on_submit():
        flash(_("Pick why you cancel it."), "error")
        return redirect(url_for(".team"), code=303)
    try:
        task_changes.cancel(db.session(), current_principal(), task_id, form.reason.data)
    except DomainError as exc:
        turned_away(exc)
    else:
        commit(_("Task cancelled: its volunteers are told."))
    return redirect(url_for(".team"), code=303)


@bp.post("/partner/team/volunteers/<int:volunteer_id>/<any(approve, reject):decision>")
@role_required("partner")
@once
def decide(volunteer_id: int, decision: str) -> Response:
    form = DecisionForm()
    try:
        volunteers.decide(db.session(), current_principal(), volunteer_id, decision, form.reason.data or "")
    except DomainError as exc:
        turned_away(exc)
    else:
        commit(_("Approved: the volunteer can take tasks.") if decision == "approve" else _("Declined."))
    return redirect(url_for(".team"), code=303)


@bp.get("/partner/team/volunteers/<int:volunteer_id>/certificate.pdf")
@role_required("partner")
def member_certificate(volunteer_id: int) -> Response:
    """A member's certificate for this year, to print and stamp."""
    today = periods.to_local(utcnow()).date()
    file = certificates.build(db.session(), current_principal(), volunteer_id, date(today.year, 1, 1), today)
    return Response(
        file.content,
        mimetype=file.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"', "Cache-Control": "no-store"},
    )


@bp.get("/caseworker/volunteer-tasks")
@role_required("caseworker", "admin")
def to_confirm() -> str:
    """Volunteers' visits to families on one's grids that the family is to confirm."""
    waiting = confirmations.awaiting(db.session(), current_principal())
    return render_template(
        "portal/volunteers/to_confirm.html", waiting=waiting, act=ActForm(), local=periods.to_local, **LABELS
    )


@bp.post("/caseworker/volunteer-tasks/<int:task_id>/confirm")
@role_required("caseworker", "admin")
@once
def caseworker_confirm(task_id: int) -> Response:
    """The family told the caseworker the visit was done."""
    try:
        confirmations.confirm(db.session(), current_principal(), task_id, "caseworker")
    except DomainError as exc:
        turned_away(exc)
    else:
        commit(_("Recorded: the family confirmed the volunteers' service."))
    return redirect(url_for(".to_confirm"), code=303)


def _figures() -> volunteer_figures.Figures:
    form = PeriodForm(request.args)
    valid = form.validate()
    date_from = form.date_from.data if valid else None
    date_to = form.date_to.data if valid else None
    if date_from and date_to and date_from > date_to:
        flash(_("The period runs backwards: the last 30 days are shown."), "error")
        date_from = date_to = None
    return volunteer_figures.figures(db.session(), current_principal(), date_from, date_to)


@bp.get("/reports/volunteers")
@role_required(*REPORT_READERS)
def report() -> str:
    """Teams, volunteers, hours and person-times per community, and how fast tasks are
    taken and done against the period before, with charts."""
    found = _figures()
    hours_chart = charts.bar_chart(
        [(r.community, r.minutes / 60, _("%(h)s h", h=r.hours)) for r in found.current.rows],
        chart_id="volunteer-hours",
        title=_("Hours served per community"),
        empty=_("No confirmed service in this period."),
    )
    speed = [
        (_("To first claim, this period"), found.to_claim.current),
        (_("To first claim, previous period"), found.to_claim.previous),
        (_("To done, this period"), found.to_done.current),
        (_("To done, previous period"), found.to_done.previous),
    ]
    speed_chart = charts.bar_chart(
        [(label, value, _("%(h)s h", h=value)) for label, value in speed if value is not None],
        chart_id="volunteer-response",
        title=_("Median hours from request"),
        empty=_("No tasks in these periods."),
    )
    return render_template(
        "portal/volunteers/report.html",
        found=found,
        hours_chart=hours_chart,
        speed_chart=speed_chart,
        period=PeriodForm(request.args),
        hours=lambda minutes: volunteer_figures.service_records.hours(minutes),
    )


@bp.get("/reports/volunteers.xlsx")
@role_required(*REPORT_READERS)
def report_xlsx() -> Response:
    name, content = volunteer_figures.to_xlsx(_figures())
    return Response(
        content,
        mimetype=volunteer_figures.XLSX_MIMETYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
