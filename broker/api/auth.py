"""Sign-in for API clients, and the decorator every other endpoint uses."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from broker.api import language
from broker.api.blueprint import Blueprint
from broker.people import users
from broker.platform import actor, db, runtime
from broker.platform.errors import Unauthorized
from broker.platform.input_schema import InputSchema
from broker.platform.scope import Principal

blp = Blueprint("auth", __name__, description="Sign in and receive a bearer token.")


class TokenRequest(InputSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))


class TokenResponse(Schema):
    token = fields.String(required=True)
    role = fields.String()
    expires_in = fields.Integer(metadata={"description": "seconds"})


def current_principal() -> Principal:
    """The principal of this request, from its bearer token. Cached on the request
    itself: ``g`` lives as long as the app context, which may span several requests."""
    principal = request.environ.get("aidbroker.principal")
    if principal is None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(
                "Sign in first: send Authorization: Bearer <token> from /api/v1/auth/token.",
                code="missing_token",
            )
        principal = users.principal_for_token(db.session(), token.strip())
        request.environ["aidbroker.principal"] = g.principal = principal
        actor.set_actor(principal.actor)
        language.choose(principal)
    return principal


def require(*roles: str) -> Callable:
    """Decorator: a valid token and, if given, one of ``roles``."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if roles:
                principal.require(*roles)
            return view(*args, **kwargs)

        wrapped._required_roles = roles
        return wrapped

    return decorate


@blp.route("/auth/token")
class Token(MethodView):
    @blp.arguments(TokenRequest)
    @blp.response(200, TokenResponse)
    @blp.alt_response(401, description="Wrong username or password")
    @blp.alt_response(429, description="Too many wrong passwords for this account; Retry-After says when to try again.")
    def post(self, body: dict) -> dict:
        """Exchange a username and password for a bearer token."""
        session = db.session()
        user = users.authenticate(session, body["username"], body["password"])
        token = users.issue_token(session, user)
        db.commit()
        return {
            "token": token,
            "role": user.role,
            "expires_in": runtime.settings()["TOKEN_TTL_HOURS"] * 3600,
        }
