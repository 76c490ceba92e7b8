"""Mobile grid members (移动网格员): an outside reporter — a delivery rider, a neighbour —
signs up from a phone (with consent) for a light account of the ``reporter`` role, which
can do one thing: report a household that may need help, and see its own reports.

The same sign-up sent twice (a double tap, a retry over a bad connection: the same
username and password) is one account, also when the two arrive at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from broker import audit
from broker.people import users
from broker.platform import security
from broker.platform.errors import Conflict, Forbidden
from broker.platform.scope import Principal
from models import Reporter, User
from models.base import utcnow

ROLE = "reporter"


def sign_up(session: Session, data: dict[str, Any]) -> tuple[Reporter, bool]:
    """A new reporter (``data`` as :class:`~.lead_schema.ReporterIn` loads it) with its
    light account; returns the reporter and whether it is new (the same sign-up again
    returns the first)."""
    first = _same_sign_up(session, data)
    if first is not None:
        return first, False
    try:
        with session.begin_nested():
            reporter = _create(session, data)
    except (IntegrityError, Conflict) as exc:  # the username made meanwhile: the other tap of a double tap?
        first = _same_sign_up(session, data)
        if first is not None:
            return first, False
        if isinstance(exc, Conflict):
            raise
        raise Conflict(
            f"The username {data['username']!r} is taken.",
            details={"username": data["username"]},
            code="username_taken",
        ) from None
    return reporter, True


def _create(session: Session, data: dict[str, Any]) -> Reporter:
    user = users.create_user(
        session, username=data["username"], password=data["password"], role=ROLE, display_name=data["name"].strip()
    )
    reporter = Reporter(
        user_id=user.id,
        name=data["name"].strip(),
        phone=data["phone"],
        kind=data.get("kind") or "courier",
        organisation=(data.get("organisation") or "").strip(),
        consent_at=utcnow(),
    )
    session.add(reporter)
    session.flush()
    audit.record(
        session,
        "reporter.signed_up",
        reporter,
        after={"user_id": user.id, "kind": reporter.kind, "organisation": reporter.organisation},
    )
    return reporter


def _same_sign_up(session: Session, data: dict[str, Any]) -> Reporter | None:
    user = session.execute(select(User).where(User.username == data["username"])).scalar_one_or_none()
    if user is None or user.role != ROLE or not security.check_password(user.password_hash, data["password"]):
        return None
    return session.execute(select(Reporter).where(Reporter.user_id == user.id)).scalar_one_or_none()


def reporter_of(session: Session, principal: Principal) -> Reporter:
    """The signed-in reporter's own record."""
    found = session.execute(select(Reporter).where(Reporter.user_id == principal.user_id)).scalar_one_or_none()
    if principal.role != ROLE or found is None:
        raise Forbidden("This is for mobile grid members who have signed up.", code="not_a_reporter")
    return found
