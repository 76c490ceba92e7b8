"""Matching a job-support need to openings and courses, explained as routing explains
itself: for the household member chosen (working-age members only), each open opening
and course either suits — with the reasons, as text codes: the place, the hours,
home-based work for a member caring for someone at home, the skill — ranked, or is left
out with the reason why not. Deterministic: the same data gives the same list.

Rank, first rule first: a home-based or flexible opening for a carer; a skill the member
has completed that the opening asks for; the place (the family's grid, then its
district, then anywhere); the higher pay; the older opening. Courses rank by how many
open openings ask for their skill, then the place, then the sooner start."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.community import courses, openings
from broker.community import job_wording as w
from broker.platform.errors import Invalid
from broker.platform.scope import Principal
from broker.referral import requests
from broker.registry import households
from broker.registry.household_facts import age_on
from models import Course, Enrolment, Household, Member, Opening, Placement

WORKING_AGE = (16, 60)
# Carers of whom: children under this age, adults from the elderly age, the disabled, the ill.
CHILD_AGE = 14
ELDERLY_AGE = 70
# On-site work longer than this a week is too long for a carer.
CARER_HOURS = 30
NOT_WORKING = ("student", "retired", "unable")


def working_age(member: Member, today: date) -> bool:
    """A living member of working age (16 to 59; an unknown birth date counts) who is
    not a student, retired or unable to work."""
    if member.deceased_on is not None or member.employment in NOT_WORKING:
        return False
    age = age_on(member.birth_date, today)
    return age is None or WORKING_AGE[0] <= age < WORKING_AGE[1]


def cared_for(members: list[Member], member: Member, today: date) -> int:
    """How many others at home the member may be caring for."""
    count = 0
    for other in members:
        if other.id == member.id or other.deceased_on is not None:
            continue
        age = age_on(other.birth_date, today)
        young = age is not None and age < CHILD_AGE
        old = age is not None and age >= ELDERLY_AGE
        if young or old or other.disability_grade is not None or other.conditions:
            count += 1
    return count


def _place(household: Household, grid_id: int | None, district: str) -> tuple[int, dict | None, dict | None]:
    """(score, why, why not) for where the work is."""
    if grid_id is not None and grid_id == household.grid_id:
        return 3, w.reason("jobs.why.same_grid"), None
    if district and district == household.grid.district:
        return 2, w.reason("jobs.why.same_district", district=district), None
    if grid_id is None and not district:
        return 1, w.reason("jobs.why.anywhere"), None
    return 0, None, w.reason("jobs.not.elsewhere", district=district or household.grid.district)


def _openings(session: Session, household: Household, member: Member, carer: int, skills: set[str]) -> tuple:
    placed = set(session.execute(select(Placement.opening_id).where(Placement.member_id == member.id)).scalars())
    chosen, left = [], []
    for opening in session.execute(select(Opening).where(Opening.status == "open").order_by(Opening.id)).scalars():
        score, why_place, not_place = _place(household, opening.grid_id, opening.district)
        free = opening.positions - openings.filled(session, opening.id)
        why_not = []
        if opening.id in placed:
            why_not.append(w.reason("jobs.not.already_placed"))
        if free <= 0:
            why_not.append(w.reason("jobs.not.full", positions=opening.positions))
        if not_place and not opening.home_based:
            why_not.append(not_place)
        if opening.skill and opening.skill not in skills:
            why_not.append(w.reason("jobs.not.needs_skill", skill=opening.skill))
        if carer and not (opening.home_based or opening.flexible) and opening.hours_per_week > CARER_HOURS:
            why_not.append(w.reason("jobs.not.carer_on_site", hours=opening.hours_per_week, count=carer))
        if why_not:
            left.append({"opening": opening, "reasons": why_not})
            continue
        reasons = [why_place or w.reason("jobs.why.home_based")]
        fit = 0
        if opening.home_based:
            if carer:
                reasons.append(w.reason("jobs.why.home_based_carer", count=carer))
                fit += 2
            elif why_place:
                reasons.append(w.reason("jobs.why.home_based"))
        if opening.flexible:
            reasons.append(w.reason("jobs.why.flexible"))
            fit += 1 if carer else 0
        reasons.append(w.reason("jobs.why.hours", hours=opening.hours_per_week))
        reasons.append(w.reason("jobs.why.pay", pay_fen=opening.pay_fen, unit=w.unit(opening.pay_unit)))
        if opening.skill:
            reasons.append(w.reason("jobs.why.skill_done", skill=opening.skill))
        else:
            reasons.append(w.reason("jobs.why.skill_none"))
        key = (-fit, -(1 if opening.skill else 0), -score, -opening.pay_fen, opening.id)
        chosen.append({"opening": opening, "reasons": reasons, "key": key})
    chosen.sort(key=lambda c: c["key"])
    for i, c in enumerate(chosen, start=1):
        c["reasons"].append(w.reason("jobs.why.rank", rank=i, total=len(chosen)))
    return chosen, left


def _courses(session: Session, household: Household, member: Member, skills: set[str]) -> tuple:
    asked: dict[str, int] = {}
    for skill in session.execute(select(Opening.skill).where(Opening.status == "open", Opening.skill != "")).scalars():
        asked[skill] = asked.get(skill, 0) + 1
    mine = {
        e.course_id: e.status
        for e in session.execute(select(Enrolment).where(Enrolment.member_id == member.id)).scalars()
    }
    chosen, left = [], []
    for course in session.execute(select(Course).where(Course.status == "open").order_by(Course.id)).scalars():
        score, why_place, not_place = _place(household, course.grid_id, course.district)
        free = course.capacity - courses.taken(session, course.id)
        why_not = []
        if mine.get(course.id) == "enrolled":
            why_not.append(w.reason("jobs.not.already_enrolled"))
        elif course.skill in skills:
            why_not.append(w.reason("jobs.not.skill_done", skill=course.skill))
        if free <= 0:
            why_not.append(w.reason("jobs.not.course_full", capacity=course.capacity))
        if not_place:
            why_not.append(not_place)
        if why_not:
            left.append({"course": course, "reasons": why_not})
            continue
        reasons = [why_place]
        if asked.get(course.skill):
            reasons.append(w.reason("jobs.why.course_skill", skill=course.skill, count=asked[course.skill]))
        reasons.append(w.reason("jobs.why.course_seats", free=free, capacity=course.capacity))
        reasons.append(
            w.reason("jobs.why.course_starts", starts_on=course.starts_on.isoformat(), sessions=course.sessions)
        )
        key = (-asked.get(course.skill, 0), -score, course.starts_on, course.id)
        chosen.append({"course": course, "reasons": reasons, "key": key})
    chosen.sort(key=lambda c: c["key"])
    for i, c in enumerate(chosen, start=1):
        c["reasons"].append(w.reason("jobs.why.rank", rank=i, total=len(chosen)))
    return chosen, left


def matches(session: Session, principal: Principal, request_id: int, member_id: int | None = None) -> dict[str, Any]:
    """The openings and courses for a job-support request's household member (the one
    named, else the first working-age member out of work, else the first of working
    age), with the reasons for and against each."""
    req = requests.get_request(session, principal, request_id)
    if req.category != "employment":
        raise Invalid("Matches are for a job-support request.", details={"request_id": ["not employment"]})
    household = households.get_household(session, principal, req.household_id)
    today = courses.today()
    members = list(
        session.execute(select(Member).where(Member.household_id == household.id).order_by(Member.id)).scalars()
    )
    able = [m for m in members if working_age(m, today)]
    if member_id is not None:
        member = next((m for m in able if m.id == member_id), None)
        if member is None:
            raise Invalid(
                "member_id is not a working-age member of this household.", details={"member_id": ["not here"]}
            )
    else:
        member = next((m for m in able if m.employment == "unemployed"), able[0] if able else None)
    out: dict[str, Any] = {
        "request_id": req.id,
        "household_id": household.id,
        "member_id": member.id if member else None,
        "members": [
            {
                "id": m.id,
                "name": m.name,
                "age": age_on(m.birth_date, today),
                "employment": m.employment,
                "chosen": member is not None and m.id == member.id,
            }
            for m in able
        ],
        "cares_for": 0,
        "openings": [],
        "openings_left_out": [],
        "courses": [],
        "courses_left_out": [],
    }
    if member is None:
        return out
    carer = cared_for(members, member, today)
    skills = set(
        session.execute(
            select(Course.skill)
            .join(Enrolment, Enrolment.course_id == Course.id)
            .where(Enrolment.member_id == member.id, Enrolment.status == "completed")
        ).scalars()
    )
    chosen, left = _openings(session, household, member, carer, skills)
    out["cares_for"] = carer
    out["openings"] = [{**openings.view(session, c["opening"]), "reasons": c["reasons"]} for c in chosen]
    out["openings_left_out"] = [_brief(c["opening"], c["reasons"]) for c in left]
    chosen, left = _courses(session, household, member, skills)
    out["courses"] = [{**courses.view(session, c["course"]), "reasons": c["reasons"]} for c in chosen]
    out["courses_left_out"] = [_brief(c["course"], c["reasons"]) for c in left]
    return out


def _brief(row: Opening | Course, reasons: list[dict]) -> dict[str, Any]:
    return {"id": row.id, "title": row.title, "reasons": reasons}
