"""Policy before charity: the part of a money need a government policy is expected to
cover is held back from the charities while the household's application is undecided.

**Held.** When routing a money request, for each policy whose ``expected_cover`` names
the request's category (:mod:`broker.policy.cover`), when the household qualifies for it
(the policy package's own rule, in its county), does not already receive it, and has no
decided application for it (none filed, or one still open), routing holds what the
policy is expected to pay (a :class:`~models.PolicyHold` linked to the request, the
policy and the open application, if any) and offers charities only the rest; the
routing decision and every offer made say so.

**Decided.** When the application is decided, :func:`decided` (a job from the outbox,
safe to run twice) settles each hold still ``held``: approved → ``covered`` (the request
completes on what charities and the policy cover together); rejected or withdrawn →
``released``, and the held part goes back to routing at once.

**Override.** An urgent need can be routed in full at once: the caseworker's recorded
override (:func:`override`) releases the hold and routes the whole amount.

A hold changes only from ``held``, under the request's row lock (request first, then
hold, as everywhere), so a decision and an override arriving together move it once and
the money is routed exactly once."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.platform import outbox
from broker.platform.errors import Conflict, Invalid
from broker.platform.scope import Principal
from broker.policy import catalogue, package
from broker.policy.evaluation import Facts
from broker.referral import lifecycle, requests, wording
from broker.referral.candidates import DIRECT, Reads
from models import AidRequest, Application, PolicyHold
from models.base import utcnow

log = logging.getLogger(__name__)

HELD, COVERED, RELEASED, OVERRIDDEN = "held", "covered", "released", "overridden"
DECIDED_KIND = "policy_decided"
DECIDED = ("approved", "rejected", "withdrawn")
REASON_MAX = 500


def _latest_application(session: Session, household_id: int, policy_code: str) -> Application | None:
    """The open application for the policy if there is one, else the latest."""
    apps = session.execute(
        select(Application)
        .where(Application.household_id == household_id, Application.policy_code == policy_code)
        .order_by(Application.id)
    ).scalars()
    latest: Application | None = None
    for app in apps:
        if latest is None or latest.status not in package.OPEN_STATUSES:
            latest = app
    return latest


def hold(session: Session, req: AidRequest, reads: Reads = DIRECT) -> list[dict[str, Any]]:
    """Hold back, on the locked money ``req``, what each policy covering its category is
    expected to pay while the household's application is undecided. A policy is
    considered once per request (a hold decided or overridden is never made again).
    Returns the reasons routing gives, as text codes, one per hold in force. ``reads``:
    where the household's county comes from (whose rules apply), as for routing."""
    if not lifecycle.is_money(req):
        return []
    policies = [p for p in catalogue.current().all() if p.covers(req.category)]
    if not policies:
        return []
    existing = {h.policy_code for h in req.policy_holds}
    if any(p.code not in existing for p in policies):
        household = req.household
        benefits = [b.policy_code for b in package.benefits_of(session, household.id)]
        facts = Facts.of(household, benefits=benefits, county=reads.county(session, household.grid_id))
        for policy in policies:
            if policy.code in existing or policy.code in benefits or not policy.qualifies(facts):
                continue
            app = _latest_application(session, household.id, policy.code)
            if app is not None and app.status in DECIDED:
                continue
            amount = min(policy.expected_cover.of(req.amount_fen), lifecycle.gap_fen(req))
            if amount <= 0:
                continue
            row = PolicyHold(
                request_id=req.id,
                household_id=req.household_id,
                policy_code=policy.code,
                policy_version=policy.version,
                application_id=app.id if app is not None else None,
                amount_fen=amount,
                status=HELD,
                reason="",
            )
            session.add(row)
            session.flush()
            session.expire(req, ["policy_holds"])
            audit.record(
                session,
                "policy_hold.held",
                row,
                after={
                    "status": HELD,
                    "policy": policy.code,
                    "amount_fen": amount,
                    "application_id": row.application_id,
                    "expected_cover": policy.expected_cover.as_dict(),
                },
                household_id=req.household_id,
                request_id=req.id,
            )
    return [held_reason(h) for h in req.policy_holds if h.status == HELD]


def held_reason(row: PolicyHold) -> dict[str, Any]:
    """Why part of the request is not offered: the policy, the amount, and the
    application it waits for (or that none is filed yet)."""
    if row.application_id is None:
        return wording.reason(
            "routing.policy_held", policy=wording.policy_name(row.policy_code), held_fen=row.amount_fen
        )
    return wording.reason(
        "routing.policy_held_application",
        policy=wording.policy_name(row.policy_code),
        held_fen=row.amount_fen,
        application=row.application_id,
    )


def _locked_holds(session: Session, request_id: int, policy_code: str | None = None) -> list[PolicyHold]:
    """The request's holds still ``held``, re-read and locked (after the request)."""
    stmt = select(PolicyHold).where(PolicyHold.request_id == request_id, PolicyHold.status == HELD)
    if policy_code is not None:
        stmt = stmt.where(PolicyHold.policy_code == policy_code)
    stmt = stmt.order_by(PolicyHold.id).execution_options(populate_existing=True).with_for_update()
    return list(session.execute(stmt).scalars())


def _move(session: Session, req: AidRequest, row: PolicyHold, to: str, *, details: dict | None = None) -> None:
    before = {"status": row.status}
    row.status = to
    row.decided_at = utcnow()
    audit.record(
        session,
        f"policy_hold.{to}",
        row,
        before=before,
        after={
            "status": to,
            "policy": row.policy_code,
            "amount_fen": row.amount_fen,
            "application_id": row.application_id,
        },
        details=details,
        household_id=req.household_id,
        request_id=req.id,
    )


def decided(session: Session, application_id: int) -> int:
    """Settle the holds waiting for the household's application for this policy, now that
    it is decided: approved → covered by the policy (the request completes when charities
    have paid the rest); rejected or withdrawn → released to routing at once. A hold
    already settled or overridden is left as it is, so a second run changes nothing.
    Returns how many holds moved."""
    app = session.get(Application, application_id)
    if app is None or app.status not in DECIDED:
        return 0
    request_ids = session.execute(
        select(PolicyHold.request_id)
        .where(
            PolicyHold.household_id == app.household_id,
            PolicyHold.policy_code == app.policy_code,
            PolicyHold.status == HELD,
        )
        .order_by(PolicyHold.request_id)
    ).scalars()
    moved = 0
    for request_id in list(request_ids):
        req = lifecycle.lock_request(session, request_id)
        for row in _locked_holds(session, request_id, app.policy_code):
            if row.application_id not in (None, app.id):
                continue  # waiting for another application of the same policy
            row.application_id = app.id
            approved = app.status == "approved"
            _move(session, req, row, COVERED if approved else RELEASED, details={"application_status": app.status})
            session.expire(req, ["policy_holds"])
            lifecycle.settle(session, req, reopen=not approved)
            moved += 1
    return moved


def override(session: Session, principal: Principal, request_id: int, reason: str) -> AidRequest:
    """The caseworker routes an urgent need in full now, not waiting for the policy: every
    hold still ``held`` is overridden (with their reason, on the timeline and the audit
    chain) and the whole amount goes to routing. 409 ``nothing_held`` when nothing is held."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise Invalid("Say why the need cannot wait for the policy (reason).", details={"reason": ["required"]})
    if len(reason) > REASON_MAX:
        raise Invalid(f"A reason has at most {REASON_MAX} characters.", details={"reason": ["too long"]})
    req = requests.steer(session, principal, request_id)
    lifecycle.check_request_open(req, "route in full")
    rows = _locked_holds(session, req.id)
    if not rows:
        raise Conflict(
            "Nothing of this request is held for a policy: it is already routed in full.",
            code="nothing_held",
            details={"request_id": req.id, "routing_state": req.routing_state},
        )
    for row in rows:
        row.reason = reason
        row.decided_by_id = principal.user_id
        _move(session, req, row, OVERRIDDEN, details={"reason": reason, "by": principal.actor})
    session.expire(req, ["policy_holds"])
    lifecycle.settle(session, req, reopen=True)
    return req


@outbox.handler(DECIDED_KIND)
def _decided_handler(session: Session, payload: dict) -> None:
    moved = decided(session, payload["application_id"])
    log.info("application %s decided: %s policy hold(s) settled", payload["application_id"], moved)
