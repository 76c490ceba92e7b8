"""Offers: a partner's inbox and its answers — accept, reject, disbursements, complete.
A partner sees only its own offers; another partner's offer is not found."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from marshmallow import ValidationError

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.idempotency import idempotent
from broker.api.schemas.common import page_of
from broker.api.schemas.offers import (
    DISBURSEMENT_BODIES,
    AcceptIn,
    AnyDisbursementForm,
    DisbursementListOut,
    DisbursementOut,
    OfferCompleteIn,
    OfferListArgs,
    OfferOut,
    RejectIn,
)
from broker.money import evidence
from broker.platform import db
from broker.platform.errors import DomainError, Invalid
from broker.referral import inbox, offers, payments

blp = Blueprint("offers", __name__, description="Offers to partners: the inbox and the answers.")

READERS = ("partner", "admin", "auditor")


@blp.route("/offers")
class Offers(MethodView):
    @require(*READERS)
    @blp.arguments(OfferListArgs, location="query")
    @blp.response(200, page_of(OfferOut))
    def get(self, args: dict) -> dict[str, Any]:
        """Your offers, most urgent first, then nearest deadline (admins, auditors: all)."""
        return inbox.list_offers(db.session(), current_principal(), **args).as_dict()


@blp.route("/offers/<int:offer_id>")
class OfferItem(MethodView):
    @require(*READERS)
    @blp.response(200, OfferOut)
    def get(self, offer_id: int) -> Any:
        """One offer, with what you may know about the family."""
        return inbox.inbox_item(db.session(), current_principal(), offer_id)


def _answered(offer_id: int) -> Any:
    session = db.session()
    item = inbox.inbox_item(session, current_principal(), offer_id)
    db.commit()
    return item


@blp.route("/offers/<int:offer_id>/accept")
class OfferAccept(MethodView):
    @require("partner")
    @idempotent
    @blp.arguments(AcceptIn, required=False)
    @blp.response(200, OfferOut)
    @blp.alt_response(
        409,
        description="invalid_transition, insufficient_funds in your fund, or restricted_funds "
        "(the money is restricted to other purposes).",
    )
    def post(self, body: dict, offer_id: int) -> Any:
        """Accept all of the offer, or less: a money offer's amount is pledged from your fund; a
        service or in-kind offer pledges nothing (send no amount)."""
        offers.accept(db.session(), current_principal(), offer_id, body["amount_fen"])
        return _answered(offer_id)


@blp.route("/offers/<int:offer_id>/reject")
class OfferReject(MethodView):
    @require("partner")
    @blp.arguments(RejectIn)
    @blp.response(200, OfferOut)
    @blp.alt_response(409, description="invalid_transition")
    def post(self, body: dict, offer_id: int) -> Any:
        """Decline, saying why; the request goes on to the next partner."""
        offers.reject(db.session(), current_principal(), offer_id, body["reason"])
        return _answered(offer_id)


@blp.route("/offers/<int:offer_id>/complete")
class OfferComplete(MethodView):
    @require("partner")
    @blp.arguments(OfferCompleteIn, required=False)
    @blp.response(200, OfferOut)
    @blp.alt_response(409, description="invalid_transition, or nothing_disbursed yet.")
    def post(self, body: dict, offer_id: int) -> Any:
        """You have done what you took on; unspent pledged money returns to your fund and
        what is left of the need goes to other partners (to you again only when you set
        ``more_available``)."""
        offers.complete(
            db.session(), current_principal(), offer_id, body["note"], more_available=body["more_available"]
        )
        return _answered(offer_id)


def _disbursement_body(kind: str) -> tuple[dict, evidence.Upload | None]:
    """The body for an offer of this ``kind`` (money, service, in_kind): JSON, or
    multipart/form-data with an optional ``evidence`` file."""
    json_schema, form_schema = DISBURSEMENT_BODIES[kind]
    try:
        if request.mimetype == "multipart/form-data":
            body = form_schema().load({**request.form.to_dict(), **request.files.to_dict()})
            file = body.pop("evidence", None)
            upload = None
            if file is not None:
                upload = evidence.Upload(file.filename or "evidence", file.mimetype or "", file.read())
            return body, upload
        data = request.get_json(silent=True)
        if data is None:
            raise DomainError(
                "Send the disbursement as a JSON object or as multipart/form-data.",
                details={"body": ["expected JSON or multipart/form-data"]},
            )
        return json_schema().load(data), None
    except ValidationError as err:
        fields = ", ".join(sorted(map(str, err.messages))) if isinstance(err.messages, dict) else "body"
        raise Invalid(
            f"Some fields are missing or invalid for a {kind.replace('_', '-')} offer: {fields}. See details.",
            details=err.messages if isinstance(err.messages, dict) else {"body": err.messages},
        ) from None


@blp.route("/offers/<int:offer_id>/disbursements")
class OfferDisbursements(MethodView):
    @require(*READERS)
    @blp.response(200, DisbursementListOut)
    def get(self, offer_id: int) -> dict[str, Any]:
        """What has reached the family on this offer."""
        return {"items": inbox.disbursements(db.session(), current_principal(), offer_id)}

    @require("partner")
    @idempotent
    @blp.doc(
        requestBody={
            "required": True,
            "description": "The shape follows the offer's `kind`: money `{amount_fen, reference}`; service "
            "`{date, hours, delivered_by, notes}`; in_kind `{items: [{name, quantity, unit}], notes}`. "
            "Multipart adds an optional `evidence` file (in_kind: `items` as JSON text).",
            "content": {
                "application/json": {"schema": {"oneOf": [pair[0] for pair in DISBURSEMENT_BODIES.values()]}},
                "multipart/form-data": {"schema": AnyDisbursementForm},
            },
        }
    )
    @blp.response(201, DisbursementOut)
    @blp.alt_response(
        409,
        description="invalid_transition: the offer is not accepted or in progress; duplicate_reference: "
        "you already recorded this voucher number (details name the first disbursement).",
    )
    @blp.alt_response(
        422,
        description="validation_error: more than remains of what you accepted, or bad fields; "
        "wrong_disbursement_kind: fields of another kind of offer.",
    )
    def post(self, offer_id: int) -> Any:
        """Record what reached the family: money paid out (moves money in the ledger), a service
        session, or goods handed over (neither moves money)."""
        session = db.session()
        principal = current_principal()
        body, upload = _disbursement_body(inbox.offer_kind(session, principal, offer_id))
        row = payments.record_disbursement(session, principal, offer_id, upload=upload, **body)
        db.commit()
        return row
