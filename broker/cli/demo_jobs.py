"""The demo's jobs and skills (``jobs:`` in ``config/seed/demo.yaml``): the embroidery
cooperative's openings — one home-based — its course and an order; a mother at home with
a small child and an ailing mother-in-law, her job-support need, the course completed,
her placement in the home-based workshop and the pieces she delivered — entered through
the domain as the cooperative and the caseworker would."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.community import courses, home_work, openings, placements
from broker.platform.scope import Principal
from broker.referral import assessment
from broker.registry import households
from broker.registry.household_schema import load_household
from models import AidRequest


def seed_jobs(session: Session, caseworker: Principal, workshop: Principal, spec: dict[str, Any]) -> None:
    """Seed the openings, the course, the order and the worker of ``spec``."""
    made = {}
    for opening in spec["openings"]:
        data = {k: v for k, v in opening.items() if k != "key"}
        made[opening["key"]] = openings.create_opening(session, workshop, data)
    course = courses.create_course(session, workshop, spec["course"])
    order = dict(spec["order"])
    found = home_work.create_order(session, workshop, made[order.pop("opening")].id, order)

    worker = spec["worker"]
    household = households.create_household(session, caseworker, load_household(worker["household"]))
    member = next(m for m in household.members if m.name == worker["member"])
    assessed = assessment.create_assessment(
        session, caseworker, household.id, {"summary": "入户走访：想就业", "needs": [worker["need"]]}
    )
    request_id = session.execute(select(AidRequest.id).where(AidRequest.need_id == assessed.needs[0].id)).scalar_one()
    enrolment = courses.enrol(session, caseworker, course.id, {"member_id": member.id, "request_id": request_id})
    for number in range(1, course.sessions + 1):
        courses.attend(session, workshop, enrolment.id, {"session_no": number})
    courses.complete(session, workshop, enrolment.id)
    placement = placements.place(
        session,
        caseworker,
        {"opening_id": made["embroidery"].id, "member_id": member.id, "request_id": request_id},
    )
    home_work.record_delivery(session, workshop, found.id, {"placement_id": placement.id, **worker["delivered"]})
