"""Special groups of a household's members (留守儿童, 困境儿童, 流动儿童, 孤寡老人, 残疾人)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.idempotency import idempotent
from broker.api.schemas.care import (
    SpecialGroupEndIn,
    SpecialGroupEndOut,
    SpecialGroupIn,
    SpecialGroupListOut,
    SpecialGroupOut,
)
from broker.community import group_endings
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
        self-report) and the day it became known. A member who had left the group is in it again
        (the same record, reopened)."""
        session = db.session()
        row = special_groups.record(session, current_principal(), household_id, body)
        result = special_groups.view(row, session.get(Member, row.member_id))
        db.commit()
        return result


@blp.route("/households/<int:household_id>/special-groups/<int:record_id>/end")
class SpecialGroupEnd(MethodView):
    @require("caseworker", "admin")
    @idempotent
    @blp.arguments(SpecialGroupEndIn)
    @blp.response(200, SpecialGroupEndOut)
    @blp.alt_response(409, description="group_ended: the member has already left this group.")
    def post(self, body: dict, household_id: int, record_id: int) -> dict[str, Any]:
        """The member left the group (the parents came home, the family moved away, the child grew
        out of it, or it was recorded in error): the record is kept with the day and the reason,
        drops out of coverage, and the member's care plans of the group end with it."""
        session = db.session()
        row, plans = group_endings.leave_group(session, current_principal(), household_id, record_id, body)
        result = {
            **special_groups.view(row, session.get(Member, row.member_id)),
            "care_plans_ended": [p.id for p in plans],
        }
        db.commit()
        return result
