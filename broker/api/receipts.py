"""Receipts (签收): the family confirms on the caseworker's phone, by signature, photo of
the signed slip or a one-time SMS code. Caseworkers of the household's grid and admins
record them; partners and auditors never do."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.schemas.receipts import CodeSentOut, ReceiptIn, ReceiptOut
from broker.platform import db
from broker.referral import receipts

blp = Blueprint("receipts", __name__, description="The family confirms what reached it.")

RECORDERS = ("caseworker", "admin")


def _out(receipt: Any) -> dict[str, Any]:
    return {
        "id": receipt.id,
        "disbursement_id": receipt.disbursement_id,
        "request_id": receipt.request_id,
        "household_id": receipt.household_id,
        "method": receipt.method,
        "received_at": receipt.received_at,
        "has_image": bool(receipt.file),
    }


@blp.route("/disbursements/<int:disbursement_id>/receipt")
class DisbursementReceipt(MethodView):
    @require(*RECORDERS)
    @blp.arguments(ReceiptIn)
    @blp.response(201, ReceiptOut)
    @blp.alt_response(200, schema=ReceiptOut, description="Already confirmed: the receipt recorded first.")
    @blp.alt_response(
        409, description="no_code_sent: send a code first; code_locked: too many wrong codes, send a new one."
    )
    @blp.alt_response(
        422, description="wrong_code (details: attempts_left), code_expired, not_an_image, file_too_large."
    )
    def post(self, body: dict, disbursement_id: int) -> Any:
        """Record that the family received this disbursement: ``signature`` or ``photo`` with the image,
        or ``code`` with the six digits sent to the family's phone. Sent twice, the first receipt stands."""
        outcome = receipts.record_receipt(
            db.session(),
            current_principal(),
            disbursement_id,
            body["method"],
            image=body.get("image"),
            code=body.get("code"),
        )
        db.commit()  # a wrong code's try counts, refused or not
        if outcome.refusal is not None:
            raise outcome.refusal
        return _out(outcome.receipt), 201 if outcome.created else 200


@blp.route("/disbursements/<int:disbursement_id>/receipt-code")
class DisbursementReceiptCode(MethodView):
    @require(*RECORDERS)
    @blp.response(202, CodeSentOut)
    @blp.alt_response(409, description="already_received; no_sms_consent: the family has not agreed to SMS; no_phone.")
    def post(self, disbursement_id: int) -> Any:
        """Send the family a one-time code by SMS to confirm receipt (valid for minutes, a few tries).
        Asked again within a minute, the code already sent stands."""
        sent = receipts.send_code(db.session(), current_principal(), disbursement_id)
        db.commit()
        return sent
