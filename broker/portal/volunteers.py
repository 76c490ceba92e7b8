"""Volunteers in the portal, on a phone: the public sign-up (``/volunteers/join``), the
volunteer's own page — status, the team's open tasks to claim, one's claims with check
in, check out and the family's code — and the service certificate to print."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from broker.community import certificates, confirmations, task_changes, tasks, teams, volunteers
from broker.platform import db, periods
from broker.platform.errors import DomainError
from broker.portal import limits
from broker.portal.auth import current_principal, role_required
from broker.portal.errors import domain_message
from broker.portal.once import once
from broker.portal.pages import attach_field_errors, commit
from broker.portal.volunteer_forms import (
    CLAIM_STATUSES,
    TASK_KIND_LABELS,
    VOLUNTEER_STATUSES,
    ActForm,
    CodeForm,
    PeriodForm,
    SignUpForm,
)
from models.base import utcnow

bp = Blueprint("portal_volunteers", __name__)
FIELDS = {k: k for k in ("team", "name", "phone", "username", "password", "id_number", "grids")}
LABELS = {"kinds": TASK_KIND_LABELS, "claim_statuses": CLAIM_STATUSES, "volunteer_statuses": VOLUNTEER_STATUSES}


def said(error: DomainError) -> str:
    """This page's refusals in the reader's language."""
    details = error.details or {}
    return {
        "task_full": _("Every place on this task is taken."),
        "task_closed": _("This task is no longer open."),
        "volunteer_not_active": _("Your team leader has not approved you yet."),
        "not_claimed": _("Claim this task first."),
        "too_early": _("It is too early to check in: come back up to two hours before the task starts."),
        "not_checked_out": _("Check out first: the family confirms a visit that is over."),
        "no_family": _("This task has no family to confirm it: your team leader confirms it."),
        "no_sms_consent": _("The family has not agreed to text messages: ask their caseworker to confirm."),
        "no_phone": _("The family has no mobile number on record: ask their caseworker to confirm."),
        "no_code_sent": _("Send the family a code first."),
        "code_locked": _("Too many wrong codes: send the family a new one."),
        "code_expired": _("The code has expired: send the family a new one."),
        "wrong_code": _(
            "That is not the code the family received: %(n)s tries left.", n=details.get("attempts_left", 0)
        ),
        "username_taken": _("This username is taken: choose another."),
        "already_signed_up": _("Someone with this ID number has already signed up: sign in with that account."),
        "unknown_grid": _("Pick grid codes from your caseworker's list, or leave the field empty."),
        "nothing_to_confirm": _("Nothing to confirm yet: the volunteer checks out first."),
    }.get(error.code) or domain_message(error)


def turned_away(error: DomainError) -> None:
    """Undo the attempt and say why on the page; not found and forbidden go to the error page."""
    db.session.rollback()
    if error.status in (401, 403, 404):
        raise error
    flash(said(error), "error")


def _items(text: str | None) -> list[str]:
    parts = (text or "").replace("，", ",").replace("、", ",").split(",")
    return [p.strip() for p in parts if p.strip()][:20]


@bp.route("/volunteers/join", methods=["GET", "POST"])
@limits.signup_limit
def join() -> Response | tuple[str, int]:
    """Anyone signs up as a volunteer of a team; the team's leader approves."""
    form = SignUpForm()
    form.team.choices = [SelectChoice(t.id, t.name) for t in teams.teams(db.session())]
    status = 200
    if form.validate_on_submit():
        data = {
            "team": form.team.data,
            "name": form.name.data.strip(),
            "phone": form.phone.data.strip(),
            "username": form.username.data.strip(),
            "password": form.password.data,
            "id_number": (form.id_number.data or "").strip() or None,
            "skills": _items(form.skills.data),
            "languages": _items(form.languages.data),
            "availability": (form.availability.data or "").strip(),
            "grids": _items(form.grids.data),
        }
        try:
            volunteers.sign_up(db.session(), data)
        except DomainError as exc:
            turned_away(exc)
            attach_field_errors(form, exc, FIELDS)
            status = exc.status
        else:
            commit(_("Thank you for signing up. Sign in to see when your team leader has approved you."))
            return redirect(url_for("portal_auth.login"), code=303)
    elif request.method == "POST":
        status = 400
    return render_template("portal/volunteers/join.html", form=form), status


@bp.get("/volunteer/")
@role_required("volunteer")
def home() -> str:
    """The volunteer's phone: status, open tasks to claim, own claims."""
    board = tasks.board(db.session(), current_principal())
    team = teams.team(db.session(), board.volunteer.team_id)
    return render_template(
        "portal/volunteers/home.html",
        volunteer=board.volunteer,
        team=team,
        open_tasks=board.open_tasks,
        mine=board.mine,
        families=board.families,
        act=ActForm(),
        code_form=CodeForm(),
        period=PeriodForm(request.args),
        local=periods.to_local,
        now=utcnow(),
        **LABELS,
    )


def _act(task_id: int, action: str) -> Response:
    principal, session = current_principal(), db.session()
    messages = {
        "claim": _("You have a place on this task."),
        "check_in": _("Checked in. Check out when you leave."),
        "check_out": _("Checked out. Now the family confirms."),
        "send_code": _("A code was texted to the family: type in the six digits they read to you."),
        "withdraw": _("You gave up your place: another volunteer can take it."),
    }
    try:
        if action == "claim":
            tasks.claim(session, principal, task_id)
        elif action == "check_in":
            tasks.check_in(session, principal, task_id)
        elif action == "check_out":
            tasks.check_out(session, principal, task_id)
        elif action == "withdraw":
            task_changes.withdraw(session, principal, task_id)
        else:
            confirmations.send_code(session, principal, task_id)
    except DomainError as exc:
        turned_away(exc)
    else:
        commit(messages[action])
    return redirect(url_for(".home"), code=303)


@bp.post("/volunteer/tasks/<int:task_id>/claim")
@role_required("volunteer")
@once
def claim(task_id: int) -> Response:
    return _act(task_id, "claim")


@bp.post("/volunteer/tasks/<int:task_id>/withdraw")
@role_required("volunteer")
@once
def withdraw(task_id: int) -> Response:
    return _act(task_id, "withdraw")


@bp.post("/volunteer/tasks/<int:task_id>/check-in")
@role_required("volunteer")
@once
def check_in(task_id: int) -> Response:
    return _act(task_id, "check_in")


@bp.post("/volunteer/tasks/<int:task_id>/check-out")
@role_required("volunteer")
@once
def check_out(task_id: int) -> Response:
    return _act(task_id, "check_out")


@bp.post("/volunteer/tasks/<int:task_id>/confirm-code")
@role_required("volunteer")
@once
def confirm_code(task_id: int) -> Response:
    return _act(task_id, "send_code")


@bp.post("/volunteer/tasks/<int:task_id>/confirm")
@role_required("volunteer")
@once
def confirm(task_id: int) -> Response:
    """The volunteer types in the code the family read out."""
    form = CodeForm()
    if not form.validate_on_submit():
        flash(_("Type the six digits the family received."), "error")
        return redirect(url_for(".home"), code=303)
    try:
        done = confirmations.confirm(db.session(), current_principal(), task_id, "code", form.code.data)
    except DomainError as exc:
        turned_away(exc)
        return redirect(url_for(".home"), code=303)
    if done.refusal is not None:
        db.commit()  # the wrong try counts
        flash(said(done.refusal), "error")
    else:
        commit(_("The family confirmed. Thank you: your hours are recorded."))
    return redirect(url_for(".home"), code=303)


@bp.get("/volunteer/certificate.pdf")
@role_required("volunteer")
def certificate() -> Response:
    """The volunteer's own service certificate for a period (default: this year)."""
    session = db.session()
    volunteer = volunteers.volunteer_of(session, current_principal())
    form = PeriodForm(request.args)
    today = periods.to_local(utcnow()).date()
    date_to = (form.date_to.data if form.validate() else None) or today
    date_from = (form.date_from.data if form.validate() else None) or date(date_to.year, 1, 1)
    if date_from > date_to:
        date_from = date(date_to.year, 1, 1)
    file = certificates.build(session, current_principal(), volunteer.id, date_from, date_to)
    return Response(
        file.content,
        mimetype=file.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"', "Cache-Control": "no-store"},
    )
