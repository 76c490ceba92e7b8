"""Mobile grid members and their leads: the sign-up anyone can do from a phone (no token),
a reporter's report and its own list, and the caseworker's visit or close."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.idempotency import idempotent
from broker.api.schemas.common import page_of
from broker.api.schemas.leads import (
    CloseIn,
    LeadApiIn,
    LeadListArgs,
    LeadOut,
    LeadVisitIn,
    ReporterIn,
    ReporterOut,
)
from broker.community import leads, reporters
from broker.platform import db, texts
from models import Grid, Lead, Reporter

blp = Blueprint("leads", __name__, description="Mobile grid members (移动网格员) and the leads they report.")


def reporter_out(reporter: Reporter) -> dict[str, Any]:
    return {
        "id": reporter.id,
        "name": reporter.name,
        "phone": reporter.phone,
        "kind": reporter.kind,
        "organisation": reporter.organisation,
        "created_at": reporter.created_at,
    }


def lead_out(lead: Lead, *, for_reporter: bool) -> dict[str, Any]:
    session = db.session()
    grid = session.get(Grid, lead.grid_id) if lead.grid_id else None
    out = {
        "id": lead.id,
        "address": lead.address,
        "community": lead.community,
        "grid": grid.code if grid else None,
        "seen": lead.seen,
        "urgency": lead.urgency,
        "has_photo": bool(lead.photo_token),
        "status": lead.status,
        "status_label": texts.render(f"lead.status.{lead.status}"),
        "close_reason": lead.close_reason,
        "reported_at": lead.created_at,
        "handled_at": lead.handled_at,
    }
    if not for_reporter:
        out["household_id"], out["visit_id"] = lead.household_id, lead.visit_id
        out["reporter"] = reporter_out(session.get(Reporter, lead.reporter_id))
    return out


def _out(lead: Lead) -> dict[str, Any]:
    return lead_out(lead, for_reporter=current_principal().role == reporters.ROLE)


@blp.route("/reporters")
class Reporters(MethodView):
    @blp.arguments(ReporterIn)
    @blp.response(201, ReporterOut)
    @blp.alt_response(200, schema=ReporterOut, description="The same sign-up again: the first one.")
    @blp.alt_response(409, description="username_taken.")
    @blp.alt_response(429, description="Too many sign-ups from this address; Retry-After says when to try again.")
    def post(self, body: dict) -> tuple[dict, int]:
        """Sign up as a mobile grid member (a courier, a neighbour) — no token needed. The account
        can report households that may need help at once. Consent is required."""
        reporter, created = reporters.sign_up(db.session(), body)
        out = reporter_out(reporter)
        db.commit()
        return out, 201 if created else 200


@blp.route("/leads")
class Leads(MethodView):
    @require(reporters.ROLE)
    @idempotent
    @blp.arguments(LeadApiIn)
    @blp.response(201, LeadOut)
    @blp.alt_response(
        422, description="unknown_grid; unknown_community; where_unknown: name the community; not_an_image."
    )
    def post(self, body: dict) -> tuple[dict, int]:
        """Report a household that may need help: the address, what you saw, how urgent, a photo if
        you have one. It goes to the grid's caseworkers; you see whether someone went."""
        lead, _created = leads.report(db.session(), current_principal(), body, body.get("photo"))
        out = _out(lead)
        db.commit()
        return out, 201

    @require(*leads.READERS)
    @blp.arguments(LeadListArgs, location="query")
    @blp.response(200, page_of(LeadOut))
    def get(self, args: dict) -> dict[str, Any]:
        """Leads you may see, newest first: your own (reporter), your grids' (caseworker), all (auditor, admin)."""
        found = leads.listing(db.session(), current_principal(), status=args.get("status"))
        start = (args["page"] - 1) * args["per_page"]
        items = [_out(lead) for lead in found[start : start + args["per_page"]]]
        return {"items": items, "page": args["page"], "per_page": args["per_page"], "total": len(found)}


@blp.route("/leads/<int:lead_id>")
class LeadOne(MethodView):
    @require(*leads.READERS)
    @blp.response(200, LeadOut)
    def get(self, lead_id: int) -> dict[str, Any]:
        """One lead (a reporter: its own, without the household found)."""
        return _out(leads.get(db.session(), current_principal(), lead_id))


@blp.route("/leads/<int:lead_id>/photo")
class LeadPhoto(MethodView):
    @require(*leads.PHOTO_READERS)
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="image/*")
    @blp.alt_response(404, description="no_photo: the lead has no photo (none was sent, or it was erased).")
    @blp.alt_response(422, description="file_changed: the kept photo no longer matches its SHA-256.")
    def get(self, lead_id: int) -> Response:
        """The photo the reporter sent, to the lead's caseworkers, auditors and admins (never back to
        a reporter); checked against its SHA-256, never cached."""
        data, content_type = leads.photo(db.session(), current_principal(), lead_id)
        return Response(
            data, mimetype=content_type, headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
        )


@blp.route("/leads/<int:lead_id>/visit")
class LeadVisit(MethodView):
    @require(*leads.HANDLERS)
    @idempotent
    @blp.arguments(LeadVisitIn)
    @blp.response(201, LeadOut)
    @blp.alt_response(200, schema=LeadOut, description="Already visited for this household: the lead as it is.")
    @blp.alt_response(409, description="invalid_transition: already handled; household_elsewhere.")
    def post(self, body: dict, lead_id: int) -> tuple[dict, int]:
        """Record the visit the lead asked for: the household (registered, or a new one), what was found.
        The visit's channel is the neighbour's report; the reporter sees that someone went."""
        lead, created = leads.visit(db.session(), current_principal(), lead_id, body)
        out = _out(lead)
        db.commit()
        return out, 201 if created else 200


@blp.route("/leads/<int:lead_id>/close")
class LeadClose(MethodView):
    @require(*leads.HANDLERS)
    @idempotent
    @blp.arguments(CloseIn)
    @blp.response(200, LeadOut)
    @blp.alt_response(409, description="invalid_transition: already handled.")
    def post(self, body: dict, lead_id: int) -> dict[str, Any]:
        """Close a lead with a coded reason (nobody found, already cared for, a duplicate …)."""
        lead = leads.close(db.session(), current_principal(), lead_id, body["reason"])
        out = _out(lead)
        db.commit()
        return out
