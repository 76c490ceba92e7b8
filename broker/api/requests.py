"""Aid requests: find them, follow them (offers and timeline), and steer them."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from broker import db, requests
from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.schemas.common import page_of
from broker.api.schemas.requests import (
    CancelIn,
    CompleteIn,
    HoldIn,
    RequestListArgs,
    RequestOut,
    RequestSummaryOut,
    RequestTimelineOut,
)

blp = Blueprint("requests", __name__, description="Aid requests: one per need, followed until fulfilled.")

READERS = ("caseworker", "admin", "auditor")
STEERERS = ("caseworker", "admin")


@blp.route("/requests")
class Requests(MethodView):
    @require(*READERS)
    @blp.arguments(RequestListArgs, location="query")
    @blp.response(200, page_of(RequestSummaryOut))
    def get(self, args: dict) -> dict[str, Any]:
        """Requests on your grids (all, for admins and auditors), newest first."""
        return requests.list_requests(db.session(), current_principal(), **args).as_dict()


@blp.route("/requests/<int:request_id>")
class RequestItem(MethodView):
    @require(*READERS)
    @blp.response(200, RequestOut)
    def get(self, request_id: int) -> dict[str, Any]:
        """One request with its offers and its timeline (why this partner, why not those)."""
        return requests.get_detail(db.session(), current_principal(), request_id)


@blp.route("/requests/<int:request_id>/timeline")
class RequestTimeline(MethodView):
    @require(*READERS)
    @blp.response(200, RequestTimelineOut)
    def get(self, request_id: int) -> dict[str, Any]:
        """Only the request's timeline."""
        return requests.get_detail(db.session(), current_principal(), request_id)


def _steered(req: Any) -> dict[str, Any]:
    result = requests.detail(db.session(), req)
    db.commit()
    return result


@blp.route("/requests/<int:request_id>/cancel")
class RequestCancel(MethodView):
    @require(*STEERERS)
    @blp.arguments(CancelIn)
    @blp.response(200, RequestOut)
    @blp.alt_response(409, description="invalid_transition: details.current_status says where it is.")
    def post(self, body: dict, request_id: int) -> dict[str, Any]:
        """Withdraw the request; its offers are withdrawn and unspent pledges released."""
        return _steered(requests.cancel(db.session(), current_principal(), request_id, body["reason"]))


@blp.route("/requests/<int:request_id>/hold")
class RequestHold(MethodView):
    @require(*STEERERS)
    @blp.arguments(HoldIn, required=False)
    @blp.response(200, RequestOut)
    @blp.alt_response(409, description="invalid_transition")
    def post(self, body: dict, request_id: int) -> dict[str, Any]:
        """Pause routing; offers already made stand."""
        return _steered(requests.hold(db.session(), current_principal(), request_id, body["reason"]))


@blp.route("/requests/<int:request_id>/resume")
class RequestResume(MethodView):
    @require(*STEERERS)
    @blp.response(200, RequestOut)
    @blp.alt_response(409, description="invalid_transition")
    def post(self, request_id: int) -> dict[str, Any]:
        """Take a held request up again and route what is still missing."""
        return _steered(requests.resume(db.session(), current_principal(), request_id))


@blp.route("/requests/<int:request_id>/complete")
class RequestComplete(MethodView):
    @require(*STEERERS)
    @blp.arguments(CompleteIn, required=False)
    @blp.response(200, RequestOut)
    @blp.alt_response(409, description="invalid_transition")
    def post(self, body: dict, request_id: int) -> dict[str, Any]:
        """Confirm that the family has the help."""
        return _steered(requests.complete(db.session(), current_principal(), request_id, body["note"]))
