"""The audit trail for auditors and admins: verify the hash chain, and read the events."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from broker import audit
from broker.api.auth import require
from broker.api.blueprint import Blueprint
from broker.api.schemas.common import page_of
from broker.api.schemas.money import AuditEventArgs, AuditEventOut, VerifyOut
from broker.platform import db

blp = Blueprint("audit", __name__, description="The append-only, hash-chained audit log.")

READERS = ("auditor", "admin")


@blp.route("/audit/verify")
class Verify(MethodView):
    @require(*READERS)
    @blp.response(200, VerifyOut)
    def get(self) -> dict[str, Any]:
        """Walk the whole chain: ok, how many events, and the first bad row with the reason if not ok."""
        return audit.verify(db.session()).as_dict()


@blp.route("/audit/events")
class Events(MethodView):
    @require(*READERS)
    @blp.arguments(AuditEventArgs, location="query")
    @blp.response(200, page_of(AuditEventOut))
    def get(self, args: dict) -> dict[str, Any]:
        """Audit events, newest first (order=asc for oldest first); filter by object, household, request, actor."""
        newest_first = args.pop("order") == "desc"
        return audit.events(db.session(), newest_first=newest_first, **args).as_dict()
