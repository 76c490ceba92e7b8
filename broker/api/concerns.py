"""Concerns and complaints: raised by anyone without a token (the answer is the public
reference), looked up by that reference without a token (state and dates only), and,
for those who answer them, listed by scope, assigned and answered."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.schemas.common import PageArgs, page_of
from broker.people import concern_reading, concerns
from broker.platform import db
from broker.platform.input_schema import MAX_ID, InputSchema

blp = Blueprint("concerns", __name__, description="Concerns and complaints from families and anyone else.")

READERS = ("caseworker", "partner", "auditor", "admin")
ACTORS = ("caseworker", "admin")


class ConcernIn(InputSchema):
    kind = fields.String(required=True, validate=validate.OneOf(concerns.KINDS))
    description = fields.String(required=True, validate=validate.Length(min=1, max=concerns.DESCRIPTION_MAX))
    contact_phone = fields.String(
        validate=validate.Length(max=30), metadata={"description": "Optional; seen only by those who answer."}
    )
    ref = fields.String(
        validate=validate.Length(max=concerns.REF_CODE_MAX),
        metadata={"description": "The short code on a receipt slip or a public notice, if any."},
    )
    community = fields.String(validate=validate.Length(max=concerns.COMMUNITY_MAX))
    household = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID), metadata={"description": "Hotline only (with a token)."}
    )
    partner = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID), metadata={"description": "Hotline only (with a token)."}
    )
    client_key = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "Send the same key on a retry: the first concern's reference comes back."},
    )


class ReferenceOut(Schema):
    reference = fields.String(required=True)


class StatusOut(Schema):
    reference = fields.String(required=True)
    state = fields.String(required=True, metadata={"description": "open, escalated or closed"})
    received_at = fields.DateTime(required=True)
    deadline_at = fields.DateTime(required=True)
    closed_at = fields.DateTime(allow_none=True)


class ConcernOut(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    kind = fields.String(required=True)
    state = fields.String(required=True)
    source = fields.String(required=True)
    description = fields.String(
        required=True, metadata={"description": "ID numbers removed; for partners, phones too."}
    )
    contact_phone = fields.String(allow_none=True, metadata={"description": "Never shown to partners."})
    ref = fields.String()
    community = fields.String()
    household_id = fields.Integer(allow_none=True)
    partner_id = fields.Integer(allow_none=True)
    notice_id = fields.Integer(allow_none=True)
    owner = fields.String(allow_none=True)
    owner_id = fields.Integer(allow_none=True)
    received_at = fields.DateTime(required=True)
    deadline_at = fields.DateTime(required=True)
    escalated_at = fields.DateTime(allow_none=True)
    answer = fields.String()
    closed_at = fields.DateTime(allow_none=True)


class ConcernListArgs(PageArgs):
    state = fields.String(validate=validate.OneOf(concerns.STATES))
    kind = fields.String(validate=validate.OneOf(concerns.KINDS))
    overdue = fields.Boolean(metadata={"description": "`true`: only those open past their deadline."})


class AssignIn(InputSchema):
    owner = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))


class AnswerIn(InputSchema):
    answer = fields.String(required=True, validate=validate.Length(min=1, max=concerns.ANSWER_MAX))


def token_optional(*roles: str) -> Any:
    """Mark a view open to anyone that does more for ``roles`` with a token (documented so)."""

    def mark(view: Any) -> Any:
        view._token_optional = roles
        return view

    return mark


@blp.route("/concerns")
class Concerns(MethodView):
    @token_optional(*ACTORS)
    @blp.arguments(ConcernIn)
    @blp.response(201, ReferenceOut)
    @blp.alt_response(200, schema=ReferenceOut, description="The same client_key again: the first reference.")
    @blp.alt_response(429, description="Too many concerns from this address; Retry-After says when to try again.")
    def post(self, body: dict) -> tuple[dict, int]:
        """Raise a concern — no token needed. With a caseworker's token it is recorded from the hotline."""
        principal = current_principal() if request.headers.get("Authorization") else None
        filed = concerns.file_concern(
            db.session(),
            kind=body["kind"],
            description=body["description"],
            contact_phone=body.get("contact_phone"),
            ref_code=body.get("ref"),
            community=body.get("community"),
            principal=principal,
            household_id=body.get("household"),
            partner_id=body.get("partner"),
            client_key=body.get("client_key"),
        )
        reference = filed.concern.reference
        db.commit()
        return {"reference": reference}, 201 if filed.created else 200

    @require(*READERS)
    @blp.arguments(ConcernListArgs, location="query")
    @blp.response(200, page_of(ConcernOut))
    def get(self, args: dict) -> dict[str, Any]:
        """The concerns you may read: yours and your grids' (caseworker), your organisation's (partner), all."""
        principal = current_principal()
        session = db.session()
        page = concerns.list_concerns(session, principal, **args)
        return {**page.as_dict(), "items": [concern_reading.describe(session, c, principal) for c in page.items]}


@blp.route("/concerns/<string:reference>")
class ConcernStatus(MethodView):
    @blp.response(200, StatusOut)
    @blp.alt_response(404, description="not_found: no concern has this reference.")
    @blp.alt_response(429, description="Too many look-ups from this address.")
    def get(self, reference: str) -> dict[str, Any]:
        """A concern's state and dates by its reference (`YJ-XXXX-XXXX`) — no token needed, nothing personal."""
        return concerns.public_status(db.session(), reference)


@blp.route("/concerns/<string:reference>/assign")
class ConcernAssign(MethodView):
    @require(*ACTORS)
    @blp.arguments(AssignIn)
    @blp.response(200, ConcernOut)
    @blp.alt_response(404, description="not_found: no such concern in your scope.")
    @blp.alt_response(409, description="invalid_transition: the concern is closed.")
    def post(self, body: dict, reference: str) -> dict[str, Any]:
        """Give the concern to a caseworker (the same owner again changes nothing)."""
        principal = current_principal()
        session = db.session()
        concern = concerns.assign(session, principal, reference, body["owner"])
        out = concern_reading.describe(session, concern, principal)
        db.commit()
        return out


@blp.route("/concerns/<string:reference>/answer")
class ConcernAnswer(MethodView):
    @require(*ACTORS)
    @blp.arguments(AnswerIn)
    @blp.response(200, ConcernOut)
    @blp.alt_response(404, description="not_found: no such concern in your scope.")
    @blp.alt_response(409, description="invalid_transition: already closed with another answer.")
    def post(self, body: dict, reference: str) -> dict[str, Any]:
        """Close the concern with its answer (the same answer again changes nothing)."""
        principal = current_principal()
        session = db.session()
        concern = concerns.answer(session, principal, reference, body["answer"])
        out = concern_reading.describe(session, concern, principal)
        db.commit()
        return out
