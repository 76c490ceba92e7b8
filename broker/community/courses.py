"""Skills courses (技能培训) and their enrolments: "social workers design the course,
volunteers teach the skill". A course belongs to a partner (the workshop, the company or
the volunteer team that runs it); caseworkers enrol the members of their grids' families,
up to its capacity — also when two caseworkers take the last place at once on PostgreSQL
(the course row is locked while the places are counted). Attendance is recorded per
session, once; an enrolment ends completed or withdrawn.

An enrolment may be for a job-support request: the request's timeline says so, and the
request stays with job matching until a placement completes it (:mod:`.placements`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker import audit
from broker.community import job_requests, openings
from broker.platform import periods
from broker.platform.errors import Conflict, Forbidden, Invalid, NotFound
from broker.platform.pages import Page, paginate
from broker.platform.scope import Principal
from broker.registry import household_states, households
from broker.registry.access import visible_grid_ids
from models import Course, CourseAttendance, Enrolment, Member
from models.base import utcnow

TAKING = ("enrolled", "completed")


def today() -> date:
    return periods.to_local(utcnow()).date()


def create_course(session: Session, principal: Principal, data: dict[str, Any]) -> Course:
    """Post a course for a partner (its own; an admin's for the partner it names)."""
    partner = openings.owner_for(session, principal, data.get("partner_id"))
    for name in ("title", "skill", "teacher"):
        if not (data.get(name) or "").strip():
            raise Invalid(f"A course has a {name}.", details={name: ["required"]})
    for name in ("capacity", "sessions"):
        if not isinstance(data.get(name), int) or data[name] < 1:
            raise Invalid(f"{name} must be a whole number of at least 1.", details={name: ["out of range"]})
    grid_id, district = openings.place_of(session, data)
    course = Course(
        partner_id=partner.id,
        title=data["title"].strip(),
        skill=data["skill"].strip(),
        teacher=data["teacher"].strip(),
        schedule=(data.get("schedule") or "").strip(),
        sessions=data["sessions"],
        starts_on=data.get("starts_on") or today(),
        capacity=data["capacity"],
        grid_id=grid_id,
        district=district,
        status="open",
        created_by_id=principal.user_id or None,
    )
    session.add(course)
    session.flush()
    audit.record(
        session,
        "course.created",
        course,
        after={
            "partner_id": partner.id,
            "title": course.title,
            "skill": course.skill,
            "teacher": course.teacher,
            "capacity": course.capacity,
            "sessions": course.sessions,
            "starts_on": course.starts_on.isoformat(),
            "grid_id": grid_id,
            "district": district,
        },
    )
    return course


def get_course(session: Session, principal: Principal, course_id: int) -> Course:
    """A course the principal may see (a partner: its own; else not found)."""
    course = session.get(Course, course_id)
    if course is None or principal.role not in openings.READERS:
        raise NotFound("No such course.")
    if principal.role == "partner" and course.partner_id != principal.partner_id:
        raise NotFound("No such course.")
    return course


def list_courses(
    session: Session, principal: Principal, *, status: str | None = None, page: int = 1, per_page: int = 50
) -> Page:
    """Courses the principal may read (a partner: its own), the soonest start first."""
    if principal.role not in openings.READERS:
        raise Forbidden("Courses are read by caseworkers, auditors, admins and the partner that runs them.")
    stmt = select(Course)
    if principal.role == "partner":
        stmt = stmt.where(Course.partner_id == principal.partner_id)
    if status is not None:
        stmt = stmt.where(Course.status == status)
    return paginate(session, stmt.order_by(Course.starts_on.desc(), Course.id.desc()), page, per_page)


def taken(session: Session, course_id: int) -> int:
    return session.execute(
        select(func.count())
        .select_from(Enrolment)
        .where(Enrolment.course_id == course_id, Enrolment.status.in_(TAKING))
    ).scalar_one()


def view(session: Session, course: Course) -> dict[str, Any]:
    partner = openings.owner_name(session, course.partner_id)
    used = taken(session, course.id)
    return {
        "id": course.id,
        "partner_id": course.partner_id,
        "partner": partner,
        "title": course.title,
        "skill": course.skill,
        "teacher": course.teacher,
        "schedule": course.schedule,
        "sessions": course.sessions,
        "starts_on": course.starts_on,
        "capacity": course.capacity,
        "enrolled": used,
        "free": max(0, course.capacity - used),
        "place": openings.place_view(session, course.grid_id, course.district),
        "status": course.status,
        "created_at": course.created_at,
    }


def staff_member(session: Session, principal: Principal, member_id: int | None) -> Member:
    """A living member of a household the principal (a caseworker of its grid, or an
    admin) may act for."""
    if principal.role not in ("caseworker", "admin"):
        raise Forbidden("Members are enrolled and placed by their caseworkers.")
    member = session.get(Member, member_id or 0)
    if member is None:
        raise Invalid("member_id names no member.", details={"member_id": ["unknown member"]})
    household = households.get_household(session, principal, member.household_id, write=True)
    household_states.require_active(household)
    if member.deceased_on is not None:
        raise Invalid("member_id is not a living member.", details={"member_id": ["deceased"]})
    return member


def enrol(session: Session, principal: Principal, course_id: int, data: dict[str, Any]) -> Enrolment:
    """Enrol a member of one of the principal's households on an open course with a
    place left (409 ``course_full``, ``course_closed``, ``already_enrolled``)."""
    member = staff_member(session, principal, data.get("member_id"))
    get_course(session, principal, course_id)
    req = job_requests.for_member(session, principal, data.get("request_id"), member)
    course = session.execute(
        select(Course).where(Course.id == course_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    if course.status != "open":
        raise Conflict("This course is closed to new students.", code="course_closed")
    found = session.execute(
        select(Enrolment).where(Enrolment.course_id == course.id, Enrolment.member_id == member.id)
    ).scalar_one_or_none()
    if found is not None and found.status in TAKING:
        raise Conflict(
            "This member is on the course already.", code="already_enrolled", details={"enrolment_id": found.id}
        )
    used = taken(session, course.id)
    if used >= course.capacity:
        raise Conflict(
            f"All {course.capacity} places on this course are taken.",
            code="course_full",
            details={"capacity": course.capacity},
        )
    before = None
    if found is None:
        found = Enrolment(
            course_id=course.id,
            member_id=member.id,
            household_id=member.household_id,
            grid_id=member.household.grid_id,
        )
        session.add(found)
    else:
        before = {"status": found.status}
    found.status = "enrolled"
    found.completed_on = None
    found.request_id = req.id if req else found.request_id
    found.created_by_id = principal.user_id or None
    session.flush()
    audit.record(
        session,
        "enrolment.created",
        found,
        before=before,
        after={"status": "enrolled", "course_id": course.id, "member_id": member.id, "request_id": found.request_id},
        household_id=member.household_id,
        request_id=found.request_id,
    )
    if req is not None:
        job_requests.note(session, req, "enrolled", course_id=course.id, enrolment_id=found.id)
    return found


def get_enrolment(session: Session, principal: Principal, enrolment_id: int, *, write: bool = False) -> Enrolment:
    """An enrolment the principal may see: the member's caseworkers, auditors, admins,
    and the partner running the course. Anything else reads as not found."""
    enrolment = session.get(Enrolment, enrolment_id)
    if enrolment is None or principal.role not in openings.READERS:
        raise NotFound("No such enrolment.")
    if principal.role == "partner":
        course = session.get(Course, enrolment.course_id)
        if course.partner_id != principal.partner_id:
            raise NotFound("No such enrolment.")
    else:
        principal.require_grid(enrolment.grid_id, write=write, what="enrolment")
    return enrolment


def lock_enrolment(session: Session, principal: Principal, enrolment_id: int) -> Enrolment:
    found = get_enrolment(session, principal, enrolment_id, write=True)
    return session.execute(
        select(Enrolment).where(Enrolment.id == found.id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def attend(session: Session, principal: Principal, enrolment_id: int, data: dict[str, Any]) -> Enrolment:
    """Record that the member came to session ``session_no``; a session recorded already
    stays as it was (a form sent twice records it once)."""
    enrolment = lock_enrolment(session, principal, enrolment_id)
    course = session.get(Course, enrolment.course_id)
    number = data.get("session_no")
    if not isinstance(number, int) or not 1 <= number <= course.sessions:
        raise Invalid(
            f"session_no is a session of this course: 1 to {course.sessions}.",
            details={"session_no": ["not a session of the course"]},
        )
    if enrolment.status != "enrolled":
        raise Conflict(
            f"This enrolment is {enrolment.status}: attendance is recorded while enrolled.",
            code="not_enrolled",
            details={"status": enrolment.status},
        )
    known = session.execute(
        select(CourseAttendance.id).where(
            CourseAttendance.enrolment_id == enrolment.id, CourseAttendance.session_no == number
        )
    ).scalar_one_or_none()
    if known is None:
        day = data.get("attended_on") or today()
        session.add(
            CourseAttendance(
                enrolment_id=enrolment.id, session_no=number, attended_on=day, recorded_by_id=principal.user_id or None
            )
        )
        session.flush()
        audit.record(
            session,
            "enrolment.attended",
            enrolment,
            after={"session_no": number, "attended_on": day.isoformat()},
            household_id=enrolment.household_id,
        )
    return enrolment


def _finish(session: Session, principal: Principal, enrolment_id: int, to: str) -> Enrolment:
    enrolment = lock_enrolment(session, principal, enrolment_id)
    if enrolment.status != "enrolled":
        raise Conflict(
            f"This enrolment is {enrolment.status} already.", code="not_enrolled", details={"status": enrolment.status}
        )
    enrolment.status = to
    if to == "completed":
        enrolment.completed_on = today()
    session.flush()
    audit.record(
        session,
        f"enrolment.{to}",
        enrolment,
        before={"status": "enrolled"},
        after={"status": to},
        household_id=enrolment.household_id,
        request_id=enrolment.request_id,
    )
    return enrolment


def complete(session: Session, principal: Principal, enrolment_id: int) -> Enrolment:
    """The member finished the course (its teacher's partner, or the caseworker, says so)."""
    return _finish(session, principal, enrolment_id, "completed")


def withdraw(session: Session, principal: Principal, enrolment_id: int) -> Enrolment:
    """The member leaves the course; the place is free again."""
    return _finish(session, principal, enrolment_id, "withdrawn")


def list_enrolments(
    session: Session,
    principal: Principal,
    *,
    course_id: int | None = None,
    member_id: int | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """Enrolments the principal may see: a caseworker's grids, a partner's courses."""
    if principal.role not in openings.READERS:
        raise Forbidden("Enrolments are read by caseworkers, auditors, admins and the course's partner.")
    stmt = select(Enrolment)
    if principal.role == "partner":
        stmt = stmt.join(Course, Course.id == Enrolment.course_id).where(Course.partner_id == principal.partner_id)
    else:
        visible = visible_grid_ids(principal)
        if visible is not None:
            stmt = stmt.where(Enrolment.grid_id.in_(visible))
    if course_id is not None:
        stmt = stmt.where(Enrolment.course_id == course_id)
    if member_id is not None:
        stmt = stmt.where(Enrolment.member_id == member_id)
    if status is not None:
        stmt = stmt.where(Enrolment.status == status)
    return paginate(session, stmt.order_by(Enrolment.id.desc()), page, per_page)


def enrolment_view(session: Session, principal: Principal, enrolment: Enrolment) -> dict[str, Any]:
    """An enrolment as the principal may read it: a partner sees the member's name as the
    family's consent allows, and no household."""
    member = session.get(Member, enrolment.member_id)
    course = session.get(Course, enrolment.course_id)
    sessions = session.execute(
        select(CourseAttendance.session_no)
        .where(CourseAttendance.enrolment_id == enrolment.id)
        .order_by(CourseAttendance.session_no)
    ).scalars()
    staff = principal.role != "partner"
    return {
        "id": enrolment.id,
        "course_id": course.id,
        "course": course.title,
        "skill": course.skill,
        "sessions": course.sessions,
        "member_id": enrolment.member_id,
        "member_name": openings.member_label(session, principal, member),
        "household_id": enrolment.household_id if staff else None,
        "request_id": enrolment.request_id if staff else None,
        "status": enrolment.status,
        "attended": list(sessions),
        "completed_on": enrolment.completed_on,
        "created_at": enrolment.created_at,
    }
