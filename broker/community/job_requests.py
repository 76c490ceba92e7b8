"""How a job-support request moves when job matching acts on it. Routing hands an
``employment`` need nobody takes to job matching (routing reason ``job_matching``): the
request stays active with its caseworker. An enrolment made for it is written on its
timeline; a placement made for it completes it (the family has the help it asked for),
and the request's follow-up visit is scheduled as for any completed request."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from broker import audit
from broker.platform.errors import Conflict, Invalid
from broker.platform.scope import Principal
from broker.referral import lifecycle, wording
from broker.referral.routing import JOB_CATEGORY
from models import AidRequest, Member

OPEN = ("active", "on-hold")


def for_member(session: Session, principal: Principal, request_id: int | None, member: Member) -> AidRequest | None:
    """The open job-support request of the member's household named by ``request_id``
    (None when none is named)."""
    if request_id is None:
        return None
    req = session.get(AidRequest, request_id)
    if req is None or req.household_id != member.household_id:
        raise Invalid("request_id is not a request of this member's household.", details={"request_id": ["not here"]})
    principal.require_grid(req.grid_id, write=True, what="request")
    if req.category != JOB_CATEGORY:
        raise Invalid("request_id names a request that is not for job support.", details={"request_id": ["category"]})
    if req.status not in OPEN:
        raise Conflict(
            f"This request is {req.status}: nothing more is done for it.",
            code="request_closed",
            details={"status": req.status},
        )
    return req


def note(session: Session, req: AidRequest, what: str, **details: Any) -> None:
    """Write what job matching did for the request on its timeline (``request.job_<what>``)."""
    audit.record(session, f"request.job_{what}", req, details=details, household_id=req.household_id, request_id=req.id)


def placed(session: Session, req: AidRequest, placement_id: int) -> None:
    """A member was placed for the request: it is fulfilled."""
    req = lifecycle.lock_request(session, req.id)
    note(session, req, "placed", placement_id=placement_id)
    if req.status in OPEN:
        req.held_from = None
        lifecycle.set_routing_state(session, req, "covered")
        lifecycle.set_request_status(
            session,
            req,
            "completed",
            action="completed",
            reason=wording.PLACED_IN_JOB,
            details={"placement_id": placement_id},
        )
