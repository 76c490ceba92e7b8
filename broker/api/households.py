"""Households, their members and visits, and the coverage view (不漏一户)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.schemas.common import PageArgs, page_of
from broker.api.schemas.registry import (
    CoverageArgs,
    CoverageOut,
    DeceasedIn,
    HouseholdIn,
    HouseholdListArgs,
    HouseholdOut,
    HouseholdPatch,
    HouseholdSummaryOut,
    MoveIn,
    StateIn,
    VisitIn,
    VisitOut,
)
from broker.platform import db
from broker.registry import household_states, households, visits

blp = Blueprint("households", __name__, description="The registry of households, their members and visits.")

READERS = ("admin", "auditor", "caseworker")
WRITERS = ("admin", "caseworker")


@blp.route("/households")
class Households(MethodView):
    @require(*READERS)
    @blp.arguments(HouseholdListArgs, location="query")
    @blp.response(200, page_of(HouseholdSummaryOut))
    def get(self, args: dict) -> dict[str, Any]:
        """Households you may see, newest first; filter by grid or state, or search with q."""
        state = args.pop("state")
        return households.list_households(
            db.session(), current_principal(), state=None if state == "all" else state, **args
        ).as_dict()

    @require(*WRITERS)
    @blp.arguments(HouseholdIn)
    @blp.response(201, HouseholdOut)
    @blp.alt_response(409, description="A member is already registered in another household (duplicate_person).")
    def post(self, body: dict) -> Any:
        """Record a household and its members on one of your grids."""
        household = households.create_household(db.session(), current_principal(), body)
        db.commit()
        return household


@blp.route("/households/<int:household_id>")
class HouseholdItem(MethodView):
    @require(*READERS)
    @blp.response(200, HouseholdOut)
    def get(self, household_id: int) -> Any:
        """One household with its members (ID numbers masked; this read of their health
        and of minors' details is logged for the auditor)."""
        household = households.read_household(
            db.session(), current_principal(), household_id, reason=f"GET /api/v1/households/{household_id}"
        )
        db.commit()
        return household

    @require(*WRITERS)
    @blp.arguments(HouseholdPatch)
    @blp.response(200, HouseholdOut)
    def patch(self, body: dict, household_id: int) -> Any:
        """Change details, income, consent, flags; add, update or remove members."""
        household = households.update_household(db.session(), current_principal(), household_id, body)
        db.commit()
        return household


@blp.route("/households/<int:household_id>/move")
class HouseholdMove(MethodView):
    @require(*WRITERS)
    @blp.arguments(MoveIn)
    @blp.response(200, HouseholdOut)
    def post(self, body: dict, household_id: int) -> Any:
        """Move the household to another grid (admin, or a caseworker holding both)."""
        household = households.move_household(db.session(), current_principal(), household_id, body["grid"])
        db.commit()
        return household


@blp.route("/households/<int:household_id>/state")
class HouseholdState(MethodView):
    @require(*WRITERS)
    @blp.arguments(StateIn)
    @blp.response(200, HouseholdOut)
    @blp.alt_response(409, description="household_not_single (deceased), household_state_unchanged.")
    def post(self, body: dict, household_id: int) -> Any:
        """Moved away, deceased (a household of one), recovered — off the active lists,
        history kept — or back to active; with the reason."""
        household = household_states.set_state(
            db.session(), current_principal(), household_id, body["state"], body["reason"]
        )
        db.commit()
        return household


@blp.route("/households/<int:household_id>/members/<int:member_id>/deceased")
class MemberDeceased(MethodView):
    @require(*WRITERS)
    @blp.arguments(DeceasedIn)
    @blp.response(200, HouseholdOut)
    def post(self, body: dict, household_id: int, member_id: int) -> Any:
        """Record that a member died (kept, not counted in the facts), or correct it."""
        session = db.session()
        household_states.set_member_deceased(
            session,
            current_principal(),
            household_id,
            member_id,
            body["reason"],
            deceased=body["deceased"],
            on=body["on"],
        )
        db.commit()
        return households.get_household(session, current_principal(), household_id)


@blp.route("/households/<int:household_id>/visits")
class HouseholdVisits(MethodView):
    @require(*READERS)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(VisitOut))
    def get(self, args: dict, household_id: int) -> dict[str, Any]:
        """The household's visits, latest first."""
        return visits.list_visits(db.session(), current_principal(), household_id, **args).as_dict()

    @require(*WRITERS)
    @blp.arguments(VisitIn)
    @blp.response(201, VisitOut)
    def post(self, body: dict, household_id: int) -> Any:
        """Record a visit (routine, holiday, neighbour report, self-report, hotline)."""
        visit = visits.record_visit(db.session(), current_principal(), household_id, body)
        db.commit()
        return visit


@blp.route("/coverage")
class Coverage(MethodView):
    @require(*READERS)
    @blp.arguments(CoverageArgs, location="query")
    @blp.response(200, CoverageOut)
    def get(self, args: dict) -> dict[str, Any]:
        """Households nobody has visited in not_visited_days (or ever), per grid and caseworker."""
        return visits.coverage(db.session(), current_principal(), **args)
