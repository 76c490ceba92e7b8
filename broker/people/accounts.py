"""Looking after the people who sign in (admin): listing them, changing a role, a
language, a caseworker's grids, a clerk's partner or an auditor's or admin's region, deactivating and reactivating, and
setting a new password. The schemas here are the one definition of valid input for every
way in (the portal's forms today), and the rules are those of
:func:`broker.people.users.create_user`, so that an account cannot be edited into a
shape it could not have been created in.

An admin cannot deactivate their own account nor take away their own admin role, so
that the broker is never left without someone to set it up. Deactivating an account or
setting its password ends its API tokens; the portal re-reads the user at every click."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from broker import audit
from broker.people import users
from broker.platform import security
from broker.platform.errors import Conflict, Invalid
from broker.platform.input_schema import MAX_ID, InputSchema
from broker.platform.pages import Page, paginate
from broker.platform.scope import Principal
from broker.platform.texts import N_, define
from models import ApiToken, Grid, Region, User, UserGrid
from models.users import ROLES

USERNAME_PATTERN = r"^[^\s]+$"

define({"own_account": N_("You cannot do this to your own account; ask another admin.")})


class UserPatch(InputSchema):
    """What an admin may change on an account; only the fields given change."""

    display_name = fields.String(validate=validate.Length(max=120))
    role = fields.String(validate=validate.OneOf(ROLES))
    locale = fields.String(allow_none=True, validate=validate.Length(min=1, max=8))
    grid_codes = fields.List(fields.String(validate=validate.Length(min=1, max=40)), validate=validate.Length(max=200))
    partner_id = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=MAX_ID))
    region = fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "An auditor's or admin's scope: a region node's code; empty for everything."},
    )


class UserIn(UserPatch):
    username = fields.String(
        required=True, validate=[validate.Length(min=1, max=64), validate.Regexp(USERNAME_PATTERN)]
    )
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=users.PASSWORD_MIN, max=users.PASSWORD_MAX)
    )
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class PasswordIn(InputSchema):
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=users.PASSWORD_MIN, max=users.PASSWORD_MAX)
    )


def _check_locale(locale: str | None, allowed: tuple[str, ...]) -> str | None:
    if locale is not None and locale not in allowed:
        raise Invalid(f"locale must be one of {', '.join(allowed)}", details={"locale": ["unknown locale"]})
    return locale


def create(session: Session, principal: Principal, data: dict, *, allowed_locales: tuple[str, ...]) -> User:
    """Create an account (admin) from :class:`UserIn` data."""
    principal.require("admin")
    return users.create_user(
        session,
        username=data["username"].strip(),
        password=data["password"],
        role=data["role"],
        partner_id=data.get("partner_id"),
        grid_codes=list(data.get("grid_codes") or ()),
        display_name=(data.get("display_name") or "").strip(),
        locale=_check_locale(data.get("locale"), allowed_locales),
        region=data.get("region") or None,
    )


def summary(session: Session, user: User) -> dict[str, Any]:
    """The account as the audit log keeps it (never the password hash)."""
    codes = session.execute(
        select(Grid.code).join(UserGrid, UserGrid.grid_id == Grid.id).where(UserGrid.user_id == user.id)
    ).scalars()
    return {
        "display_name": user.display_name,
        "role": user.role,
        "locale": user.locale,
        "partner_id": user.partner_id,
        "grids": sorted(codes),
        "region": session.execute(select(Region.code).where(Region.id == user.region_id)).scalar_one_or_none()
        if user.region_id
        else None,
        "active": user.is_active,
    }


def list_users(
    session: Session, principal: Principal, *, role: str | None = None, page: int = 1, per_page: int = 50
) -> Page:
    """Every account (admin), by role then username; ``role`` narrows it."""
    principal.require("admin")
    stmt = select(User).order_by(User.role, User.username)
    if role:
        stmt = stmt.where(User.role == role)
    return paginate(session, stmt, page, per_page)


def get(session: Session, principal: Principal, user_id: int) -> User:
    principal.require("admin")
    return users.get_user(session, user_id)


def grid_codes(session: Session, user: User) -> list[str]:
    """The codes of the grids a caseworker holds, sorted."""
    return summary(session, user)["grids"]


def _not_self(principal: Principal, user: User, what: str) -> None:
    if user.id == principal.user_id:
        raise Conflict(
            f"You cannot {what} your own account; ask another admin.", details={"user_id": user.id}, code="own_account"
        )


def update(
    session: Session, principal: Principal, user_id: int, data: dict, *, allowed_locales: tuple[str, ...]
) -> User:
    """Change an account (admin) from :class:`UserPatch` data, under the rules an account
    is created by: a partner clerk has a partner, only a caseworker has grids."""
    principal.require("admin")
    user = users.get_user(session, user_id)
    before = summary(session, user)
    role = data.get("role", user.role)
    if role != user.role and user.role == "admin":
        _not_self(principal, user, "take the admin role from")
    partner_id = data.get("partner_id", user.partner_id)
    codes = list(data["grid_codes"] or ()) if "grid_codes" in data else before["grids"]
    if role != "partner" and "partner_id" not in data:
        partner_id = None  # a clerk moved to another role leaves the partner
    if role != "caseworker" and "grid_codes" not in data:
        codes = []  # a caseworker moved to another role leaves the grids
    users.check_binding(session, role, partner_id, codes)
    region = (data["region"] or None) if "region" in data else before["region"]
    if role not in users.SCOPED_ROLES and "region" not in data:
        region = None  # an auditor or admin moved to another role leaves the scope
    user.region_id = users.region_scope(session, role, region)
    if "locale" in data:
        user.locale = _check_locale(data["locale"], allowed_locales)
    if "display_name" in data:
        user.display_name = data["display_name"].strip() or user.username
    user.role, user.partner_id = role, partner_id
    if sorted(codes) != before["grids"]:
        user.grids.clear()
        session.flush()
        user.grids.extend(UserGrid(grid_id=grid.id) for grid in users.grids_named(session, codes))
    session.flush()
    after = summary(session, user)
    changed = [k for k in after if after[k] != before[k]]
    if changed:
        audit.record(
            session, "user.updated", user, before={k: before[k] for k in changed}, after={k: after[k] for k in changed}
        )
    return user


def set_active(session: Session, principal: Principal, user_id: int, active: bool) -> User:
    """Let an account sign in again, or stop it (its API tokens end at once)."""
    principal.require("admin")
    user = users.get_user(session, user_id)
    if not active:
        _not_self(principal, user, "deactivate")
    if user.is_active != active:
        user.is_active = active
        if not active:
            session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
        session.flush()
        audit.record(
            session,
            "user.activated" if active else "user.deactivated",
            user,
            before={"active": not active},
            after={"active": active},
        )
    return user


def reset_password(session: Session, principal: Principal, user_id: int, password: str) -> User:
    """Give an account a new password (admin), by the rule every password follows; its
    API tokens end, so whoever held the old password is out."""
    principal.require("admin")
    users.check_password_rule(password)
    user = users.get_user(session, user_id)
    user.password_hash = security.hash_password(password)
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    session.flush()
    audit.record(session, "user.password_reset", user, details={"tokens_revoked": True})
    return user
