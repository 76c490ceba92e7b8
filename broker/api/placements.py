"""Placements and their 3- and 6-month follow-ups, home-based orders, deliveries and
earnings, the job matches of a job-support request, and the jobs figures."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.idempotency import idempotent
from broker.api.ledger import FILE_DESCRIPTION, FILE_DOC, file_response
from broker.api.schemas.common import page_of
from broker.api.schemas.jobs import (
    HomeDeliveryIn,
    HomeDeliveryOut,
    HomeEarningsArgs,
    HomeEarningsOut,
    HomeOrderIn,
    HomeOrderListArgs,
    HomeOrderOut,
    JobMatchesArgs,
    JobMatchesOut,
    JobsFiguresOut,
    JobsReportArgs,
    PlacementFollowUpIn,
    PlacementFollowUpListOut,
    PlacementFollowUpOut,
    PlacementIn,
    PlacementListArgs,
    PlacementOut,
)
from broker.community import home_work, job_figures, job_matching, placements
from broker.money.exports import XLSX_MIMETYPE
from broker.platform import db, texts

blp = Blueprint("placements", __name__, description="Placements, follow-ups, home-based work and job matches.")

READERS = ("caseworker", "auditor", "admin", "partner")
STAFF = ("caseworker", "auditor", "admin")


@blp.route("/placements")
class Placements(MethodView):
    @require(*READERS)
    @blp.arguments(PlacementListArgs, location="query")
    @blp.response(200, page_of(PlacementOut))
    def get(self, args: dict) -> dict[str, Any]:
        """Placements you may see (your grids; an employer: its openings'), newest first."""
        session, principal = db.session(), current_principal()
        found = placements.list_placements(session, principal, **args)
        return {**found.as_dict(), "items": [placements.view(session, principal, p) for p in found.items]}

    @require("caseworker", "admin")
    @idempotent
    @blp.arguments(PlacementIn)
    @blp.response(201, PlacementOut)
    @blp.alt_response(
        409, description="opening_full, opening_closed, already_placed; household_inactive; request_closed."
    )
    def post(self, body: dict) -> dict[str, Any]:
        """Place a member in an opening (for its household's job-support request, which it completes)."""
        session, principal = db.session(), current_principal()
        placement = placements.place(session, principal, body)
        result = placements.view(session, principal, placement)
        db.commit()
        return result


@blp.route("/placements/<int:placement_id>")
class PlacementItem(MethodView):
    @require(*READERS)
    @blp.response(200, PlacementOut)
    def get(self, placement_id: int) -> dict[str, Any]:
        """One placement with its follow-ups."""
        session, principal = db.session(), current_principal()
        return placements.view(session, principal, placements.get_placement(session, principal, placement_id))


@blp.route("/placements/<int:placement_id>/follow-ups/<int:months>")
class PlacementFollowUpView(MethodView):
    @require("caseworker", "admin")
    @blp.arguments(PlacementFollowUpIn)
    @blp.response(200, PlacementFollowUpOut)
    @blp.alt_response(409, description="follow_up_done: recorded already; not_due: too early.")
    def post(self, body: dict, placement_id: int, months: int) -> dict[str, Any]:
        """Record the 3- or 6-month follow-up: still working? earnings in the month before."""
        session, principal = db.session(), current_principal()
        follow_up = placements.record_follow_up(session, principal, placement_id, months, body)
        result = placements.follow_up_view(follow_up)
        db.commit()
        return result


@blp.route("/placements/follow-ups-due")
class FollowUpsDue(MethodView):
    @require(*STAFF)
    @blp.response(200, PlacementFollowUpListOut)
    def get(self) -> dict[str, Any]:
        """Follow-ups due and not yet recorded on your grids, the oldest first."""
        session = db.session()
        found = placements.due_follow_ups(session, current_principal())
        return {"items": [placements.follow_up_view(f) for f in found]}


@blp.route("/openings/<int:opening_id>/orders")
class OpeningOrders(MethodView):
    @require("partner", "admin")
    @idempotent
    @blp.arguments(HomeOrderIn)
    @blp.response(201, HomeOrderOut)
    def post(self, body: dict, opening_id: int) -> dict[str, Any]:
        """Record an order a home-based workshop took: buyer, items, quantity, amount."""
        session = db.session()
        order = home_work.create_order(session, current_principal(), opening_id, body)
        result = home_work.order_view(session, order)
        db.commit()
        return result


@blp.route("/home-orders")
class HomeOrders(MethodView):
    @require(*READERS)
    @blp.arguments(HomeOrderListArgs, location="query")
    @blp.response(200, page_of(HomeOrderOut))
    def get(self, args: dict) -> dict[str, Any]:
        """Home-based workshops' orders (a partner: its own), the latest first."""
        session = db.session()
        found = home_work.list_orders(session, current_principal(), **args)
        return {**found.as_dict(), "items": [home_work.order_view(session, o) for o in found.items]}


@blp.route("/home-orders/<int:order_id>/deliveries")
class OrderDeliveries(MethodView):
    @require("partner", "admin")
    @idempotent
    @blp.arguments(HomeDeliveryIn)
    @blp.response(201, HomeDeliveryOut)
    @blp.alt_response(409, description="order_delivered; over_delivered: more pieces than the order asks.")
    def post(self, body: dict, order_id: int) -> dict[str, Any]:
        """A worker delivered pieces against the order and earned for them."""
        session = db.session()
        delivery = home_work.record_delivery(session, current_principal(), order_id, body)
        result = {
            "id": delivery.id,
            "order_id": delivery.order_id,
            "placement_id": delivery.placement_id,
            "quantity": delivery.quantity,
            "earnings_fen": delivery.earnings_fen,
            "delivered_on": delivery.delivered_on,
        }
        db.commit()
        return result


@blp.route("/home-earnings")
class HomeEarnings(MethodView):
    @require(*READERS)
    @blp.arguments(HomeEarningsArgs, location="query")
    @blp.response(200, HomeEarningsOut)
    def get(self, args: dict) -> dict[str, Any]:
        """Each home-based worker's pieces and earnings (your grids; a workshop: its workers)."""
        return {"items": home_work.earnings(db.session(), current_principal(), **args)}


def _said(found: dict[str, Any]) -> dict[str, Any]:
    for key in ("openings", "openings_left_out", "courses", "courses_left_out"):
        for row in found[key]:
            row["reasons"] = [texts.rendered(r) for r in row["reasons"]]
    return found


@blp.route("/requests/<int:request_id>/job-matches")
class JobMatches(MethodView):
    @require(*STAFF)
    @blp.arguments(JobMatchesArgs, location="query")
    @blp.response(200, JobMatchesOut)
    def get(self, args: dict, request_id: int) -> dict[str, Any]:
        """Openings and courses for a job-support request's member, ranked, with why — and why not the rest."""
        session = db.session()
        return _said(job_matching.matches(session, current_principal(), request_id, args["member_id"]))


@blp.route("/reports/jobs")
class JobsReport(MethodView):
    @require(*STAFF)
    @blp.arguments(JobsReportArgs, location="query")
    @blp.response(200, JobsFiguresOut, description=FILE_DESCRIPTION)
    @blp.alt_response(200, schema=FILE_DOC, content_type=XLSX_MIMETYPE, description=FILE_DESCRIPTION, success=True)
    def get(self, args: dict) -> Any:
        """Courses completed, placements and their 3/6-month retention, home-based workers' earnings —
        in your grids (all, for auditors and admins)."""
        session, principal = db.session(), current_principal()
        if args["format"] != "json":
            return file_response(job_figures.export(session, principal))
        return job_figures.figures(session, principal)
