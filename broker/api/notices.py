"""Public notices (公示) of government aid per community: posting one, and reading them —
as JSON, or the community's latest (or a chosen) notice as a PDF or XLSX to print."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from marshmallow import Schema, fields, validate, validates_schema
from marshmallow.exceptions import ValidationError

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.ledger import FILE_DOC
from broker.api.schemas.common import PageArgs, page_of
from broker.platform import db, texts
from broker.platform.input_schema import MAX_ID, InputSchema
from broker.policy import notice_files, notices

blp = Blueprint("notices", __name__, description="Public notices (公示) of government aid, per community.")

FILE_DESCRIPTION = "JSON; with format=pdf or xlsx, the community's latest notice (or `notice`) as a file to print."


class NoticeArgs(PageArgs):
    community = fields.String(validate=validate.Length(min=1, max=80))
    notice = fields.Integer(validate=validate.Range(min=1, max=MAX_ID), metadata={"description": "One notice's id."})
    format = fields.String(load_default="json", validate=validate.OneOf(("json", *notice_files.FORMATS)))

    @validates_schema
    def _file_needs_a_notice(self, data: dict, **_kw: object) -> None:
        if data.get("format", "json") != "json" and not (data.get("community") or data.get("notice")):
            raise ValidationError("name the community (or the notice) to print", field_name="community")


class NoticeIn(InputSchema):
    community = fields.String(required=True, validate=validate.Length(min=1, max=80))
    days = fields.Integer(validate=validate.Range(min=1, max=notices.MAX_DAYS), metadata={"description": "default 7"})


class NoticeEntryOut(Schema):
    masked_name = fields.String(required=True, metadata={"description": "王**: the head's surname only."})
    household_size = fields.Integer(required=True)
    policy = fields.String(required=True)
    aid = fields.String(required=True, metadata={"description": "The policy's name in your language."})
    amount_fen = fields.Integer(allow_none=True)
    period = fields.String(required=True)
    approved_on = fields.Date(allow_none=True)


class NoticeOut(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True, metadata={"description": "Printed on the notice; objections quote it."})
    community = fields.String(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    state = fields.String(required=True, metadata={"description": "upcoming, posted or ended"})
    objections = fields.Integer(required=True, metadata={"description": "Objections received during the period."})
    entries = fields.List(fields.Nested(NoticeEntryOut), required=True)


def _out(notice: Any) -> dict[str, Any]:
    locale = texts.current_locale()
    return {
        "id": notice.id,
        "code": notice.code,
        "community": notice.community,
        "starts_on": notice.starts_on,
        "ends_on": notice.ends_on,
        "state": notices.state(notice),
        "objections": len(notices.objections(db.session(), notice)),
        "entries": [
            {
                "masked_name": e.masked_name,
                "household_size": e.household_size,
                "policy": e.policy_code,
                "aid": notices.policy_name(e, locale),
                "amount_fen": e.amount_fen,
                "period": e.period,
                "approved_on": e.approved_on,
            }
            for e in notice.entries
        ],
    }


@blp.route("/notices")
class Notices(MethodView):
    @require(*notices.READERS)
    @blp.arguments(NoticeArgs, location="query")
    @blp.response(200, page_of(NoticeOut), description=FILE_DESCRIPTION)
    @blp.alt_response(200, schema=FILE_DOC, content_type="application/pdf", description=FILE_DESCRIPTION, success=True)
    @blp.alt_response(
        200, schema=FILE_DOC, content_type=notice_files.XLSX_MIMETYPE, description=FILE_DESCRIPTION, success=True
    )
    @blp.alt_response(404, description="not_found: no such community among yours, or it has no notice yet.")
    def get(self, args: dict) -> Any:
        """Notices of your communities, newest first; `format=pdf|xlsx` with `community` prints the latest."""
        principal, session = current_principal(), db.session()
        fmt, chosen = args.pop("format"), args.pop("notice", None)
        if chosen is not None:
            notice = notices.get_notice(session, principal, chosen)
            if fmt == "json":
                return {"items": [_out(notice)], "page": 1, "per_page": 1, "total": 1}
        elif fmt != "json":
            notice = notices.latest(session, principal, args["community"])
        if fmt != "json":
            file = notice_files.export(notice, fmt)
            return Response(
                file.content,
                mimetype=file.mimetype,
                headers={"Content-Disposition": f'attachment; filename="{file.filename}"', "Cache-Control": "no-store"},
            )
        page = notices.list_notices(
            session, principal, args.get("community"), page=args["page"], per_page=args["per_page"]
        )
        return {**page.as_dict(), "items": [_out(n) for n in page.items]}

    @require(*notices.PUBLISHERS)
    @blp.arguments(NoticeIn)
    @blp.response(201, NoticeOut)
    @blp.alt_response(404, description="not_found: no such community among yours.")
    @blp.alt_response(422, description="nothing_to_post: no approved application waits (with consent).")
    def post(self, body: dict) -> dict[str, Any]:
        """Post a notice of the community's approved applications not yet posted (families who agreed only)."""
        notice = notices.publish(db.session(), current_principal(), body["community"], days=body.get("days"))
        out = _out(notice)
        db.commit()
        return out
