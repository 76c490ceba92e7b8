"""Users, sign-in and bearer tokens."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.platform import runtime, security
from broker.platform.errors import Conflict, Invalid, Unauthorized, found
from broker.platform.scope import Principal
from models import ApiToken, Grid, Partner, User, UserGrid
from models.base import utcnow
from models.users import ROLES


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    partner_id: int | None = None,
    grid_codes: list[str] | tuple[str, ...] = (),
    display_name: str = "",
) -> User:
    """Create a user; a partner user is bound to one partner, a caseworker to grids."""
    if role not in ROLES:
        raise Invalid(
            f"role must be one of {', '.join(ROLES)}",
            details={"role": ["unknown role"]},
        )
    if len(password) < 8:
        raise Invalid(
            "password must have at least 8 characters",
            details={"password": ["too short"]},
        )
    if session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(f"The username {username!r} is taken.")
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
    user = User(
        username=username,
        password_hash=security.hash_password(password),
        role=role,
        partner_id=partner_id,
        display_name=display_name or username,
    )
    for code in grid_codes:
        grid = session.execute(select(Grid).where(Grid.code == code)).scalar_one_or_none()
        if grid is None:
            raise Invalid(f"no grid with code {code!r}", details={"grid": ["unknown grid"]})
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
        },
    )
    return user


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


def principal_for_token(session: Session, token: str) -> Principal:
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == security.token_hash(token))
    ).scalar_one_or_none()
    if row is None or row.expires_at < utcnow() or not row.user.is_active:
        raise Unauthorized(
            "The token is unknown or has expired; ask for a new one at /api/v1/auth/token.",
            code="invalid_token",
        )
    return principal_of(row.user)


def principal_of(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        partner_id=user.partner_id,
        grid_ids=frozenset(g.grid_id for g in user.grids),
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
