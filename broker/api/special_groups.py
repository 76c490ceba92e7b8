"""Special groups of a household's members (留守儿童, 困境儿童, 流动儿童, 孤寡老人, 残疾人)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.idempotency import idempotent
from broker.api.schemas.care import SpecialGroupIn, SpecialGroupListOut, SpecialGroupOut
from broker.platform import db
from broker.registry import special_groups
from models import Member

blp = Blueprint("special_groups", __name__, description="Special groups in the registry of households.")


@blp.route("/households/<int:household_id>/special-groups")
class SpecialGroups(MethodView):
    @require("caseworker", "auditor", "admin")
    @blp.response(200, SpecialGroupListOut)
    def get(self, household_id: int) -> dict[str, Any]:
        """The household's members in special groups, with how and since when it is known."""
        session = db.session()
        found = special_groups.list_for_household(session, current_principal(), household_id)
        result = {"items": [special_groups.view(r, session.get(Member, r.member_id)) for r in found]}
        db.commit()  # the read of minors' and health details is logged
        return result

    @require("caseworker", "admin")
    @idempotent
    @blp.arguments(SpecialGroupIn)
    @blp.response(201, SpecialGroupOut)
    @blp.alt_response(409, description="already_in_group: the member is already recorded in this group.")
    def post(self, body: dict, household_id: int) -> dict[str, Any]:
        """Record that a member is in a special group: its source (survey, visit, civil-affairs list,
        self-report) and the day it became known."""
        session = db.session()
        row = special_groups.record(session, current_principal(), household_id, body)
        result = special_groups.view(row, session.get(Member, row.member_id))
        db.commit()
        return result
