"""Jobs and skills pages (就业与技能): openings and one opening (with the close button),
courses and one course with its enrolments (attendance, complete, withdraw), a
job-support request's matches (with the "who" select, enrolling and placing from there),
placements with their follow-ups (the due ones first, with the form), home-based orders
and each worker's earnings, and the jobs figures with charts and the XLSX export.

Thin over :mod:`broker.community`: a view parses the form, calls the domain, commits and
shows what happened."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from broker.community import courses, home_work, job_figures, job_matching, openings, placements
from broker.platform import db
from broker.platform.errors import DomainError
from broker.portal import charts, i18n
from broker.portal.auth import current_principal, role_required
from broker.portal.job_forms import AttendanceForm, EnrolForm, FollowUpForm, PlaceForm, member_id
from broker.portal.once import once
from broker.portal.pages import commit, page_arg, refused

bp = Blueprint("portal_jobs", __name__, url_prefix="/jobs")

STAFF = ("caseworker", "auditor", "admin")
READERS = (*STAFF, "partner")


@bp.get("/openings")
@role_required(*READERS)
def opening_list() -> str:
    """Openings, the newest first (a partner: its own)."""
    principal, session = current_principal(), db.session()
    found = openings.list_openings(session, principal, page=page_arg(request.args.get("page")))
    items = [openings.view(session, o) for o in found.items]
    return render_template("portal/jobs/openings.html", found=found, items=items)


def _opening_page(opening_id: int, status: int = 200) -> tuple[str, int]:
    principal, session = current_principal(), db.session()
    opening = openings.get_opening(session, principal, opening_id)
    shown = openings.view(session, opening)
    people = []
    if principal.role != "partner" or opening.partner_id == principal.partner_id:
        people = [
            placements.view(session, principal, p)
            for p in placements.list_placements(session, principal, opening_id=opening.id, per_page=200).items
        ]
    page = render_template(
        "portal/jobs/opening.html",
        opening=shown,
        people=people,
        can_close=principal.role in ("partner", "admin") and opening.status == "open",
    )
    return page, status


@bp.get("/openings/<int:opening_id>")
@role_required(*READERS)
def opening(opening_id: int) -> tuple[str, int]:
    """One opening: place, hours, pay, positions filled, who works there."""
    return _opening_page(opening_id)


@bp.post("/openings/<int:opening_id>/close")
@role_required("partner", "admin")
def close(opening_id: int) -> Response | tuple[str, int]:
    """Close the opening: nobody more is placed in it."""
    try:
        openings.close_opening(db.session(), current_principal(), opening_id)
    except DomainError as exc:
        return _opening_page(opening_id, refused(exc))
    commit(_("Opening closed: nobody more is placed in it."))
    return redirect(url_for(".opening", opening_id=opening_id))


@bp.get("/courses")
@role_required(*READERS)
def course_list() -> str:
    """Courses, the latest start first (a partner: its own)."""
    principal, session = current_principal(), db.session()
    found = courses.list_courses(session, principal, page=page_arg(request.args.get("page")))
    items = [courses.view(session, c) for c in found.items]
    return render_template("portal/jobs/courses.html", found=found, items=items)


def _course_page(course_id: int, status: int = 200) -> tuple[str, int]:
    principal, session = current_principal(), db.session()
    course = courses.get_course(session, principal, course_id)
    found = courses.list_enrolments(session, principal, course_id=course.id, per_page=200)
    page = render_template(
        "portal/jobs/course.html",
        course=courses.view(session, course),
        enrolments=[courses.enrolment_view(session, principal, e) for e in found.items],
        can_act=principal.role in ("caseworker", "admin", "partner"),
        form=AttendanceForm(),
    )
    return page, status


@bp.get("/courses/<int:course_id>")
@role_required(*READERS)
def course(course_id: int) -> tuple[str, int]:
    """One course with its enrolments: sessions attended, complete, withdraw."""
    return _course_page(course_id)


@bp.post("/enrolments/<int:enrolment_id>/<any(attendance, complete, withdraw):action>")
@role_required("caseworker", "admin", "partner")
def enrolment_action(enrolment_id: int, action: str) -> Response | tuple[str, int]:
    """Record a session attended, or complete, or withdraw the enrolment."""
    principal, session = current_principal(), db.session()
    enrolment = courses.get_enrolment(session, principal, enrolment_id, write=True)
    try:
        if action == "attendance":
            form = AttendanceForm()
            if not form.validate_on_submit():
                return _course_page(enrolment.course_id, 400)
            courses.attend(session, principal, enrolment.id, {"session_no": form.session_no.data})
            message = _("Attendance recorded.")
        elif action == "complete":
            courses.complete(session, principal, enrolment.id)
            message = _("Course completed.")
        else:
            courses.withdraw(session, principal, enrolment.id)
            message = _("Withdrawn from the course: the place is free again.")
    except DomainError as exc:
        return _course_page(enrolment.course_id, refused(exc))
    commit(message)
    return redirect(url_for(".course", course_id=enrolment.course_id, _anchor=f"enrolment-{enrolment.id}"))


def _matches_page(request_id: int, chosen: int | None, status: int = 200) -> tuple[str, int]:
    principal, session = current_principal(), db.session()
    found = job_matching.matches(session, principal, request_id, chosen)
    can_act = principal.role in ("caseworker", "admin")
    page = render_template(
        "portal/jobs/matches.html",
        found=found,
        enrol=EnrolForm(formdata=None) if can_act else None,
        place=PlaceForm(formdata=None) if can_act else None,
    )
    return page, status


@bp.get("/requests/<int:request_id>/matches")
@role_required(*STAFF)
def matches(request_id: int) -> tuple[str, int]:
    """Openings and courses for the request's member (the "who" select), with why and why not."""
    return _matches_page(request_id, member_id(request.args.get("member")))


@bp.post("/requests/<int:request_id>/enrol")
@role_required("caseworker", "admin")
@once
def enrol(request_id: int) -> Response | tuple[str, int]:
    """Enrol the member on a course, for this request."""
    principal, session = current_principal(), db.session()
    form = EnrolForm()
    who, course_id = member_id(form.member.data), member_id(form.course.data)
    if not form.validate_on_submit() or who is None or course_id is None:
        return _matches_page(request_id, who, 400)
    try:
        courses.enrol(session, principal, course_id, {"member_id": who, "request_id": request_id})
    except DomainError as exc:
        return _matches_page(request_id, who, refused(exc))
    commit(_("Enrolled on the course."))
    return redirect(url_for(".course", course_id=course_id))


@bp.post("/requests/<int:request_id>/place")
@role_required("caseworker", "admin")
@once
def place(request_id: int) -> Response | tuple[str, int]:
    """Place the member in an opening, for this request (which it completes)."""
    principal, session = current_principal(), db.session()
    form = PlaceForm()
    who, opening_id = member_id(form.member.data), member_id(form.opening.data)
    if not form.validate_on_submit() or who is None or opening_id is None:
        return _matches_page(request_id, who, 400)
    try:
        placements.place(session, principal, {"opening_id": opening_id, "member_id": who, "request_id": request_id})
    except DomainError as exc:
        return _matches_page(request_id, who, refused(exc))
    commit(_("Placed in the job. Follow-ups are due at 3 and 6 months."))
    return redirect(url_for(".placement_list"))


def _placements_page(form: FollowUpForm | None = None, status: int = 200) -> tuple[str, int]:
    principal, session = current_principal(), db.session()
    found = placements.list_placements(session, principal, page=page_arg(request.args.get("page")))
    due = placements.due_follow_ups(session, principal) if principal.role in STAFF else []
    can_record = principal.role in ("caseworker", "admin")
    page = render_template(
        "portal/jobs/placements.html",
        found=found,
        items=[placements.view(session, principal, p) for p in found.items],
        due=[placements.follow_up_view(f) for f in due],
        form=(form or FollowUpForm(formdata=None)) if can_record else None,
    )
    return page, status


@bp.get("/placements")
@role_required(*READERS)
def placement_list() -> tuple[str, int]:
    """Placements with their follow-ups; the follow-ups due first, with the form."""
    return _placements_page()


@bp.post("/placements/<int:placement_id>/follow-ups/<int:months>")
@role_required("caseworker", "admin")
@once
def follow_up(placement_id: int, months: int) -> Response | tuple[str, int]:
    """Record the 3- or 6-month follow-up of a placement."""
    principal, session = current_principal(), db.session()
    form = FollowUpForm()
    if not form.validate_on_submit():
        return _placements_page(form, 400)
    data = {
        "still_working": form.still_working.data == "yes",
        "earnings_fen": form.earnings.data,
        "notes": form.notes.data or "",
    }
    try:
        placements.record_follow_up(session, principal, placement_id, months, data)
    except DomainError as exc:
        return _placements_page(form, refused(exc))
    commit(_("Follow-up recorded."))
    return redirect(url_for(".placement_list", _anchor=f"placement-{placement_id}"))


@bp.get("/home-work")
@role_required(*READERS)
def home_work_page() -> str:
    """Home-based workshops' orders and each worker's pieces and earnings."""
    principal, session = current_principal(), db.session()
    found = home_work.list_orders(session, principal, page=page_arg(request.args.get("page")))
    return render_template(
        "portal/jobs/home_work.html",
        found=found,
        orders=[home_work.order_view(session, o) for o in found.items],
        workers=home_work.earnings(session, principal),
    )


@bp.get("/")
@role_required(*STAFF)
def report() -> str:
    """The jobs figures with charts."""
    found = job_figures.figures(db.session(), current_principal())
    return render_template("portal/jobs/report.html", figures=found, charts=_charts(found))


def _charts(found: dict[str, Any]) -> list[dict[str, Any]]:
    """Courses and placements, retention at 3 and 6 months, and earnings per home worker."""
    steps = [
        (_("On a course now"), found["enrolled"]),
        (_("Courses completed"), found["courses_completed"]),
        (_("Placements"), found["placements"]),
        (_("Still working at 3 months"), found["retained_3"]),
        (_("Still working at 6 months"), found["retained_6"]),
    ]
    earned = [(w["member_name"], w["earnings_fen"], i18n.format_yuan(w["earnings_fen"])) for w in found["workers"]]
    return [
        {
            "id": "jobs-steps",
            "title": _("From course to job"),
            "svg": charts.bar_chart(
                [(label, n, str(n)) for label, n in steps],
                chart_id="jobs-steps",
                title=_("From course to job"),
                empty=_("Nobody is on a course or in a job yet."),
            ),
        },
        {
            "id": "jobs-earnings",
            "title": _("Earnings of home-based workers"),
            "svg": charts.bar_chart(
                earned,
                chart_id="jobs-earnings",
                title=_("Earnings of home-based workers"),
                empty=_("No home-based worker has delivered yet."),
            ),
        },
    ]


@bp.get("/report.xlsx")
@role_required(*STAFF)
def export() -> Response:
    """The jobs figures and each home-based worker's earnings as an XLSX workbook."""
    file = job_figures.export(db.session(), current_principal())
    response = Response(file.content, mimetype=file.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response
