"""Job openings (岗位), skills courses (技能培训) and enrolments: attendance, completion,
withdrawal. Openings and courses are posted by their company or workshop (or an admin for
it); caseworkers enrol their families' members."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.idempotency import idempotent
from broker.api.schemas.common import page_of
from broker.api.schemas.jobs import (
    CourseAttendanceIn,
    CourseIn,
    CourseListArgs,
    CourseOut,
    EnrolIn,
    EnrolmentListArgs,
    EnrolmentOut,
    JobEmptyIn,
    OpeningIn,
    OpeningListArgs,
    OpeningOut,
)
from broker.community import courses, openings
from broker.platform import db

blp = Blueprint("jobs", __name__, description="Job openings, skills courses and enrolments.")

READERS = ("caseworker", "auditor", "admin", "partner")


@blp.route("/openings")
class Openings(MethodView):
    @require(*READERS)
    @blp.arguments(OpeningListArgs, location="query")
    @blp.response(200, page_of(OpeningOut))
    def get(self, args: dict) -> dict[str, Any]:
        """Openings, the newest first (a partner: its own)."""
        session = db.session()
        found = openings.list_openings(session, current_principal(), **args)
        return {**found.as_dict(), "items": [openings.view(session, o) for o in found.items]}

    @require("partner", "admin")
    @idempotent
    @blp.arguments(OpeningIn)
    @blp.response(201, OpeningOut)
    def post(self, body: dict) -> dict[str, Any]:
        """Post an opening: kind, place, hours, pay in fen, flexible or home-based, positions."""
        session = db.session()
        opening = openings.create_opening(session, current_principal(), body)
        result = openings.view(session, opening)
        db.commit()
        return result


@blp.route("/openings/<int:opening_id>")
class OpeningItem(MethodView):
    @require(*READERS)
    @blp.response(200, OpeningOut)
    def get(self, opening_id: int) -> dict[str, Any]:
        """One opening, with the positions filled and free."""
        session = db.session()
        return openings.view(session, openings.get_opening(session, current_principal(), opening_id))


@blp.route("/openings/<int:opening_id>/close")
class OpeningClose(MethodView):
    @require("partner", "admin")
    @blp.arguments(JobEmptyIn)
    @blp.response(200, OpeningOut)
    @blp.alt_response(409, description="opening_closed: the opening is closed already.")
    def post(self, body: dict, opening_id: int) -> dict[str, Any]:
        """Close the opening: nobody more is placed in it."""
        del body
        session = db.session()
        opening = openings.close_opening(session, current_principal(), opening_id)
        result = openings.view(session, opening)
        db.commit()
        return result


@blp.route("/courses")
class Courses(MethodView):
    @require(*READERS)
    @blp.arguments(CourseListArgs, location="query")
    @blp.response(200, page_of(CourseOut))
    def get(self, args: dict) -> dict[str, Any]:
        """Courses, the latest start first (a partner: its own)."""
        session = db.session()
        found = courses.list_courses(session, current_principal(), **args)
        return {**found.as_dict(), "items": [courses.view(session, c) for c in found.items]}

    @require("partner", "admin")
    @idempotent
    @blp.arguments(CourseIn)
    @blp.response(201, CourseOut)
    def post(self, body: dict) -> dict[str, Any]:
        """Post a course: skill, teacher, schedule, sessions, capacity, place."""
        session = db.session()
        course = courses.create_course(session, current_principal(), body)
        result = courses.view(session, course)
        db.commit()
        return result


@blp.route("/courses/<int:course_id>")
class CourseItem(MethodView):
    @require(*READERS)
    @blp.response(200, CourseOut)
    def get(self, course_id: int) -> dict[str, Any]:
        """One course, with the places taken and free."""
        session = db.session()
        return courses.view(session, courses.get_course(session, current_principal(), course_id))


@blp.route("/courses/<int:course_id>/enrolments")
class CourseEnrolments(MethodView):
    @require("caseworker", "admin")
    @idempotent
    @blp.arguments(EnrolIn)
    @blp.response(201, EnrolmentOut)
    @blp.alt_response(
        409, description="course_full, course_closed, already_enrolled; household_inactive; request_closed."
    )
    def post(self, body: dict, course_id: int) -> dict[str, Any]:
        """Enrol a member of one of your households (for its job-support request, if named)."""
        session, principal = db.session(), current_principal()
        enrolment = courses.enrol(session, principal, course_id, body)
        result = courses.enrolment_view(session, principal, enrolment)
        db.commit()
        return result


@blp.route("/enrolments")
class Enrolments(MethodView):
    @require(*READERS)
    @blp.arguments(EnrolmentListArgs, location="query")
    @blp.response(200, page_of(EnrolmentOut))
    def get(self, args: dict) -> dict[str, Any]:
        """Enrolments you may see: your grids' members; a partner, its courses' students."""
        session, principal = db.session(), current_principal()
        found = courses.list_enrolments(session, principal, **args)
        return {**found.as_dict(), "items": [courses.enrolment_view(session, principal, e) for e in found.items]}


@blp.route("/enrolments/<int:enrolment_id>")
class EnrolmentItem(MethodView):
    @require(*READERS)
    @blp.response(200, EnrolmentOut)
    def get(self, enrolment_id: int) -> dict[str, Any]:
        """One enrolment, with the sessions attended."""
        session, principal = db.session(), current_principal()
        return courses.enrolment_view(session, principal, courses.get_enrolment(session, principal, enrolment_id))


@blp.route("/enrolments/<int:enrolment_id>/attendance")
class EnrolmentAttendance(MethodView):
    @require("caseworker", "admin", "partner")
    @blp.arguments(CourseAttendanceIn)
    @blp.response(200, EnrolmentOut)
    @blp.alt_response(409, description="not_enrolled: the enrolment is completed or withdrawn.")
    def post(self, body: dict, enrolment_id: int) -> dict[str, Any]:
        """Record that the member came to a session (once; sending it again changes nothing)."""
        session, principal = db.session(), current_principal()
        enrolment = courses.attend(session, principal, enrolment_id, body)
        result = courses.enrolment_view(session, principal, enrolment)
        db.commit()
        return result


@blp.route("/enrolments/<int:enrolment_id>/complete")
class EnrolmentComplete(MethodView):
    @require("caseworker", "admin", "partner")
    @blp.arguments(JobEmptyIn)
    @blp.response(200, EnrolmentOut)
    @blp.alt_response(409, description="not_enrolled: completed or withdrawn already.")
    def post(self, body: dict, enrolment_id: int) -> dict[str, Any]:
        """The member completed the course."""
        del body
        session, principal = db.session(), current_principal()
        enrolment = courses.complete(session, principal, enrolment_id)
        result = courses.enrolment_view(session, principal, enrolment)
        db.commit()
        return result


@blp.route("/enrolments/<int:enrolment_id>/withdraw")
class EnrolmentWithdraw(MethodView):
    @require("caseworker", "admin", "partner")
    @blp.arguments(JobEmptyIn)
    @blp.response(200, EnrolmentOut)
    @blp.alt_response(409, description="not_enrolled: completed or withdrawn already.")
    def post(self, body: dict, enrolment_id: int) -> dict[str, Any]:
        """The member leaves the course; the place is free again."""
        del body
        session, principal = db.session(), current_principal()
        enrolment = courses.withdraw(session, principal, enrolment_id)
        result = courses.enrolment_view(session, principal, enrolment)
        db.commit()
        return result
