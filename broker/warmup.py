"""Warming a worker before it forks.

RQ runs each job in a process forked from the worker. A job in a cold process spends
most of its time compiling SQL (some 40 ms) before its first 10 ms of work. So the
worker's parent rehearses the hot path once — a need assessed and routed to a portal
partner with money — on made-up rows inside a transaction that is always rolled back:
every forked job inherits the compiled statements, and nothing is written (no commit
means no audit event, no outbox row, nothing sent to Redis)."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.money import funds
from broker.platform import db, outbox
from broker.platform.scope import Principal
from broker.referral import assessment, partners, routing
from broker.registry import grids, household_schema, households
from models import AidRequest, User, UserGrid

log = logging.getLogger(__name__)
NO_PASSWORD = "!"  # noqa: S105 - no hash verifies against it, and the row is rolled back anyway


def warm_up() -> bool:
    """Rehearse routing once and roll it back. Never raises: a cold worker still works."""
    session = db.session()
    try:
        _rehearse(session)
        return True
    except Exception:  # warming is an optimisation, never a reason not to start
        log.warning("worker warm-up skipped; jobs start cold", exc_info=True)
        return False
    finally:
        session.rollback()
        db.session.remove()


def _rehearse(session: Session) -> None:
    tag = uuid.uuid4().hex[:12]
    admin = _user(session, f"warmup-admin-{tag}", "admin")
    grid = grids.create_grid(
        session, admin, {"code": f"WARMUP-{tag}", "name": "warm-up", "district": "-", "street": "-", "community": "-"}
    )
    caseworker = _user(session, f"warmup-caseworker-{tag}", "caseworker", grid_id=grid.id)
    partner = partners.create_partner(
        session,
        admin,
        {"name": f"warm-up {tag}", "kind": "charity", "adapter": "portal", "categories": ["medical"], "regions": ["*"]},
    )
    funds.record_deposit(session, partner.id, amount_fen=100_000, reference=f"warm-up {tag}")
    household = households.create_household(
        session,
        caseworker,
        household_schema.load_household(
            {
                "grid": grid.code,
                "address": "warm-up",
                "monthly_income_fen": 0,
                "members": [{"name": "warm-up", "relation": "head", "birth_date": "1980-01-01"}],
            }
        ),
    )
    made = assessment.create_assessment(
        session, caseworker, household.id, {"needs": [{"category": "medical", "urgency": "high", "amount_fen": 100}]}
    )
    outbox.write_queued(session)
    outbox.claim(session, "default")
    for need in made.needs:
        routing.route(session, _request_id(session, need.id))
    session.flush()  # the UPDATEs a routing commit sends


def _user(session: Session, username: str, role: str, grid_id: int | None = None) -> Principal:
    user = User(username=username, password_hash=NO_PASSWORD, role=role)
    if grid_id is not None:
        user.grids.append(UserGrid(grid_id=grid_id))
    session.add(user)
    session.flush()
    return Principal(
        user_id=user.id,
        username=username,
        role=role,
        grid_ids=frozenset({grid_id}) if grid_id is not None else frozenset(),
    )


def _request_id(session: Session, need_id: int) -> int:
    return session.execute(select(AidRequest.id).where(AidRequest.need_id == need_id)).scalar_one()
