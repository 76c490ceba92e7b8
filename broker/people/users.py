"""Users, sign-in and bearer tokens."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, object_session

from broker import audit
from broker.platform import invalidation, runtime, security
from broker.platform.errors import Conflict, Invalid, Unauthorized, found
from broker.platform.input_schema import text_problem
from broker.platform.scope import Principal
from broker.platform.texts import N_, define
from broker.registry import region_tree
from models import ApiToken, Grid, Partner, Region, User, UserGrid
from models.base import utcnow
from models.users import ROLES

define({"username_taken": N_("The username %(username)s is taken.")})


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    partner_id: int | None = None,
    grid_codes: list[str] | tuple[str, ...] = (),
    display_name: str = "",
    locale: str | None = None,
    region: str | None = None,
) -> User:
    """Create a user; a partner user is bound to one partner, a caseworker to grids, and
    an auditor or admin may be scoped to a region node (``region``, its code)."""
    check_password_rule(password)
    if session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(f"The username {username!r} is taken.", details={"username": username}, code="username_taken")
    check_binding(session, role, partner_id, grid_codes)
    user = User(
        username=username,
        password_hash=security.hash_password(password),
        role=role,
        partner_id=partner_id,
        display_name=display_name or username,
        locale=locale,
        region_id=region_scope(session, role, region),
    )
    for grid in grids_named(session, grid_codes):
        user.grids.append(UserGrid(grid_id=grid.id))
    session.add(user)
    session.flush()
    audit.record(
        session,
        "user.created",
        user,
        after={
            "username": username,
            "role": role,
            "partner_id": partner_id,
            "grids": list(grid_codes),
            **({"locale": locale} if locale else {}),
            **({"region": region} if region else {}),
        },
    )
    return user


PASSWORD_MIN = 8
PASSWORD_MAX = 256


def check_password_rule(password: str) -> None:
    """The one rule for a new password, wherever it is set: 8 to 256 characters of text
    that can be stored and typed again (no lone surrogate, no control character)."""
    if len(password) < PASSWORD_MIN:
        raise Invalid(
            f"password must have at least {PASSWORD_MIN} characters",
            details={"password": ["too short"]},
            code="password_too_short",
        )
    if len(password) > PASSWORD_MAX:
        raise Invalid(
            f"password must have at most {PASSWORD_MAX} characters",
            details={"password": ["too long"]},
            code="password_too_long",
        )
    problem = text_problem(password)
    if problem:
        raise Invalid(f"password {problem}", details={"password": [problem]}, code="password_not_text")


def check_binding(session: Session, role: str, partner_id: int | None, grid_codes: list[str] | tuple[str, ...]) -> None:
    """A partner user belongs to one existing partner, a caseworker holds grids, and no
    other role has either."""
    if role not in ROLES:
        raise Invalid(
            f"role must be one of {', '.join(ROLES)}",
            details={"role": ["unknown role"]},
        )
    if role == "partner":
        if partner_id is None or session.get(Partner, partner_id) is None:
            raise Invalid(
                "a partner user needs an existing --partner ID",
                details={"partner": ["required"]},
            )
    elif partner_id is not None:
        raise Invalid(
            "only partner users belong to a partner",
            details={"partner": ["not allowed"]},
        )
    if grid_codes and role != "caseworker":
        raise Invalid("only caseworkers are given grids", details={"grid": ["not allowed"]})
    grids_named(session, grid_codes)


SCOPED_ROLES = ("auditor", "admin")


def region_scope(session: Session, role: str, code: str | None) -> int | None:
    """The id of the region node an auditor or admin is scoped to (None: everything);
    :class:`Invalid` for an unknown code or another role."""
    if code is None:
        return None
    if role not in SCOPED_ROLES:
        raise Invalid("only auditors and admins are scoped to a region", details={"region": ["not allowed"]})
    region_id = session.execute(select(Region.id).where(Region.code == code)).scalar_one_or_none()
    if region_id is None:
        raise Invalid(f"no region with code {code!r}", details={"region": ["unknown region"]})
    return region_id


def grids_named(session: Session, grid_codes: list[str] | tuple[str, ...]) -> list[Grid]:
    """The grids with these codes, in order; :class:`Invalid` naming the first unknown one."""
    out = []
    for code in grid_codes:
        grid = session.execute(select(Grid).where(Grid.code == code)).scalar_one_or_none()
        if grid is None:
            raise Invalid(f"no grid with code {code!r}", details={"grid": ["unknown grid"]})
        out.append(grid)
    return out


def authenticate(session: Session, username: str, password: str) -> User:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    ok = security.check_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        raise Unauthorized("Wrong username or password.", code="invalid_credentials")
    return user


def issue_token(session: Session, user: User) -> str:
    token, digest = security.new_token()
    ttl = timedelta(hours=runtime.settings()["TOKEN_TTL_HOURS"])
    session.add(ApiToken(user_id=user.id, token_hash=digest, expires_at=utcnow() + ttl))
    session.flush()
    return token


# Built once: every API request runs it, and building a statement costs more than sending it.
_BY_TOKEN = (
    select(
        ApiToken.expires_at,
        User.id,
        User.username,
        User.role,
        User.partner_id,
        User.locale,
        User.is_active,
        User.region_id,
        UserGrid.grid_id,
    )
    .join(User, User.id == ApiToken.user_id)
    .outerjoin(UserGrid, UserGrid.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


# Principals read by token, kept while nothing they were read from has changed anywhere
# (a token, a user, a grid assignment, the region tree) and for at most PRINCIPAL_SECONDS.
_PRINCIPALS = invalidation.generation(
    "principals", {"api_tokens", "users", "user_grids", "grids", "regions"}, inserts_harmless={"api_tokens"}
)
PRINCIPAL_SECONDS = 10.0
_PRINCIPALS_KEPT = 10_000


@dataclass(frozen=True)
class _Kept:
    generation: int
    read_at: float
    expires_at: datetime
    principal: Principal


_kept: dict[str, _Kept] = {}


def principal_for_token(session: Session, token: str) -> Principal:
    """The principal a bearer token stands for, read in one round trip: the token joined
    to its user and, outer-joined, the user's grids (one row per grid). An auditor or
    admin scoped to a node of the region tree holds every grid below it (two more reads,
    for those readers only).

    Kept in this process until any of those tables changes, in any process (see
    :mod:`broker.platform.invalidation`): a revoked or expired token, a deactivated user
    and a changed grid assignment take effect with the next request all the same."""
    digest = security.token_hash(token)
    generation = _PRINCIPALS.current()
    kept = _kept.get(digest)
    if (
        kept is not None
        and kept.generation == generation
        and time.monotonic() - kept.read_at < PRINCIPAL_SECONDS
        and kept.expires_at >= utcnow()
    ):
        return kept.principal
    read_at = time.monotonic()
    rows = session.execute(_BY_TOKEN, {"token_hash": digest}).all()
    if not rows or rows[0].expires_at < utcnow() or not rows[0].is_active:
        raise Unauthorized(
            "The token is unknown or has expired; ask for a new one at /api/v1/auth/token.",
            code="invalid_token",
        )
    first = rows[0]
    principal = _principal(session, first, frozenset(r.grid_id for r in rows if r.grid_id is not None))
    if generation is not None:
        if len(_kept) >= _PRINCIPALS_KEPT:
            _kept.clear()
        _kept[digest] = _Kept(generation, read_at, first.expires_at, principal)
    return principal


def principal_of(user: User) -> Principal:
    """Who the user is for the scope checks. An auditor or admin scoped to a node of the
    region tree holds every grid below it (the tree is read once, in two queries)."""
    return _principal(object_session(user), user, frozenset(g.grid_id for g in user.grids))


def _principal(session: Session, user: Any, grid_ids: frozenset[int]) -> Principal:
    """The principal of ``user`` (a User or a row with its columns) holding ``grid_ids``,
    or, for a reader scoped to a region, every grid below that region."""
    region_id = user.region_id if user.role in SCOPED_ROLES else None
    if region_id is not None:
        grid_ids = region_tree.grids_below(session, region_id)
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        partner_id=user.partner_id,
        grid_ids=grid_ids,
        region_id=region_id,
        locale=user.locale,
    )


def get_user(session: Session, user_id: int) -> User:
    user = found(session.get(User, user_id), "user")
    return user


def stored_locale(session: Session, user_id: int) -> str | None:
    """The language the user chose to read in, if they chose one."""
    return session.execute(select(User.locale).where(User.id == user_id)).scalar_one_or_none()


def set_locale(session: Session, user_id: int, locale: str, *, allowed: tuple[str, ...]) -> User:
    """Remember the language a user reads the portal in (one of ``allowed``), so that it
    follows them to another browser."""
    if locale not in allowed:
        raise Invalid(f"locale must be one of {', '.join(allowed)}", details={"locale": ["unknown locale"]})
    user = get_user(session, user_id)
    if user.locale != locale:
        before = user.locale
        user.locale = locale
        session.flush()
        audit.record(session, "user.locale_changed", user, before={"locale": before}, after={"locale": locale})
    return user
