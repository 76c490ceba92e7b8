"""Care plans (关爱计划) and their contacts; the care figures and the coverage of special
groups (who has no plan yet)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.idempotency import idempotent
from broker.api.ledger import FILE_DESCRIPTION, FILE_DOC, file_response
from broker.api.schemas.care import (
    CampIn,
    CampOut,
    CareContactIn,
    CareContactListOut,
    CareContactOut,
    CareCoverageArgs,
    CareCoverageOut,
    CareFiguresOut,
    CarePlanIn,
    CarePlanListArgs,
    CarePlanOut,
    CareReportArgs,
    EndPlanIn,
)
from broker.api.schemas.common import PageArgs, page_of
from broker.community import camps, care_contacts, care_figures, care_plans, care_report_file
from broker.money.exports import XLSX_MIMETYPE
from broker.platform import db

blp = Blueprint("care_plans", __name__, description="Care plans for special groups, their contacts and figures.")

READERS = ("caseworker", "auditor", "admin", "partner")
STAFF = ("caseworker", "auditor", "admin")


@blp.route("/care-plans")
class CarePlans(MethodView):
    @require(*READERS)
    @blp.arguments(CarePlanListArgs, location="query")
    @blp.response(200, page_of(CarePlanOut))
    def get(self, args: dict) -> dict[str, Any]:
        """Plans you may see (your grids; a partner: the plans naming it), the soonest contact due first."""
        session, principal = db.session(), current_principal()
        found = care_plans.list_plans(session, principal, **args)
        return {**found.as_dict(), "items": [care_plans.view(session, principal, p) for p in found.items]}

    @require("caseworker", "admin")
    @idempotent
    @blp.arguments(CarePlanIn)
    @blp.response(201, CarePlanOut)
    @blp.alt_response(409, description="plan_exists: the member has an active plan of this kind; household_inactive.")
    def post(self, body: dict) -> dict[str, Any]:
        """Pair a member recorded in a special group with a mentor, or a doctor and a volunteer, on a schedule."""
        session, principal = db.session(), current_principal()
        plan = care_plans.create_plan(session, principal, body)
        result = care_plans.view(session, principal, plan)
        db.commit()
        return result


@blp.route("/care-plans/<int:plan_id>")
class CarePlanItem(MethodView):
    @require(*READERS)
    @blp.response(200, CarePlanOut)
    def get(self, plan_id: int) -> dict[str, Any]:
        """One plan, with its carers and when the next contact is due."""
        session, principal = db.session(), current_principal()
        return care_plans.view(session, principal, care_plans.get_plan(session, principal, plan_id))


@blp.route("/care-plans/<int:plan_id>/end")
class CarePlanEnd(MethodView):
    @require("caseworker", "admin", "partner")
    @blp.arguments(EndPlanIn)
    @blp.response(200, CarePlanOut)
    @blp.alt_response(409, description="plan_ended: the plan has ended already.")
    def post(self, body: dict, plan_id: int) -> dict[str, Any]:
        """End the plan, saying why: no contact falls due any more."""
        session, principal = db.session(), current_principal()
        plan = care_plans.end_plan(session, principal, plan_id, body["reason"])
        result = care_plans.view(session, principal, plan)
        db.commit()
        return result


@blp.route("/care-plans/<int:plan_id>/contacts")
class CareContacts(MethodView):
    @require(*READERS)
    @blp.response(200, CareContactListOut)
    def get(self, plan_id: int) -> dict[str, Any]:
        """The plan's contacts, the latest first (for a partner, free text redacted)."""
        session, principal = db.session(), current_principal()
        found = care_contacts.list_contacts(session, principal, plan_id)
        return {"items": [care_contacts.view(session, principal, c) for c in found]}

    @require("caseworker", "admin", "partner")
    @idempotent
    @blp.arguments(CareContactIn)
    @blp.response(201, CareContactOut)
    @blp.alt_response(409, description="plan_ended: the plan has ended; possible_duplicate.")
    def post(self, body: dict, plan_id: int) -> dict[str, Any]:
        """Record a contact: which carer, when, how, what was done, the concerns raised (and, for a
        caseworker, a need opened for them)."""
        session, principal = db.session(), current_principal()
        contact = care_contacts.record(session, principal, plan_id, body)
        result = care_contacts.view(session, principal, contact)
        db.commit()
        return result


@blp.route("/special-groups/coverage")
class CareCoverage(MethodView):
    @require(*STAFF)
    @blp.arguments(CareCoverageArgs, location="query")
    @blp.response(200, CareCoverageOut)
    def get(self, args: dict) -> dict[str, Any]:
        """Who in a special group has no active care plan, grid by grid, with the counts."""
        session, principal = db.session(), current_principal()
        return {
            "counts": care_figures.figures(session, principal).as_dict(),
            "items": care_figures.without_plan(session, principal, group=args["group"]),
        }


@blp.route("/reports/care")
class CareReport(MethodView):
    @require(*STAFF)
    @blp.arguments(CareReportArgs, location="query")
    @blp.response(200, CareFiguresOut, description=FILE_DESCRIPTION)
    @blp.alt_response(200, schema=FILE_DOC, content_type=XLSX_MIMETYPE, description=FILE_DESCRIPTION, success=True)
    def get(self, args: dict) -> Any:
        """Children mentored, contact regularity, missed contacts, elderly living alone with a doctor and a
        volunteer, members of each group without a plan — in your grids (all, for auditors and admins)."""
        session, principal = db.session(), current_principal()
        if args["format"] != "json":
            return file_response(care_report_file.export_care_report(session, principal))
        return care_figures.figures(session, principal).as_dict()


@blp.route("/camps")
class Camps(MethodView):
    @require(*STAFF)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(CampOut))
    def get(self, args: dict) -> dict[str, Any]:
        """Growth-camp sessions (成长营) on your grids, the latest first, with who came."""
        session = db.session()
        found = camps.list_sessions(session, current_principal(), **args)
        return {**found.as_dict(), "items": [camps.view(session, c) for c in found.items]}

    @require("caseworker", "admin")
    @idempotent
    @blp.arguments(CampIn)
    @blp.response(201, CampOut)
    def post(self, body: dict) -> dict[str, Any]:
        """Record a growth-camp session held on your grid and the mentored children who attended."""
        session = db.session()
        camp = camps.record_session(session, current_principal(), body)
        result = camps.view(session, camp)
        db.commit()
        return result
