"""Volunteers: the sign-up anyone can do from a phone (no token), the team leader's
decision, reading volunteers by scope, a volunteer's service certificate (PDF), and the
volunteer figures of a period against the one before (JSON or XLSX)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from flask import Response
from flask.views import MethodView

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.idempotency import idempotent
from broker.api.ledger import FILE_DOC
from broker.api.schemas.common import page_of
from broker.api.schemas.volunteers import (
    CertificatePeriodArgs,
    FiguresArgs,
    FiguresOut,
    SignUpDecisionIn,
    VolunteerIn,
    VolunteerListArgs,
    VolunteerOut,
)
from broker.community import certificates, volunteer_figures, volunteers
from broker.platform import db, periods
from broker.platform.errors import Invalid
from models import Partner, Volunteer
from models.base import utcnow

blp = Blueprint("volunteers", __name__, description="Volunteers: sign-up, approval, certificates, figures.")

MAX_CERTIFICATE_DAYS = 3 * 366


def volunteer_out(volunteer: Volunteer) -> dict[str, Any]:
    team = db.session().get(Partner, volunteer.team_id)
    return {
        "id": volunteer.id,
        "team_id": volunteer.team_id,
        "team": team.name if team else "",
        "name": volunteer.name,
        "phone": volunteer.phone,
        "skills": volunteer.skills or [],
        "languages": volunteer.languages or [],
        "availability": volunteer.availability,
        "grids": volunteer.grids or [],
        "status": volunteer.status,
        "created_at": volunteer.created_at,
        "decided_at": volunteer.decided_at,
    }


def download(filename: str, mimetype: str, content: bytes) -> Response:
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@blp.route("/volunteers")
class Volunteers(MethodView):
    @blp.arguments(VolunteerIn)
    @blp.response(201, VolunteerOut)
    @blp.alt_response(200, schema=VolunteerOut, description="The same sign-up again: the first one.")
    @blp.alt_response(409, description="username_taken; already_signed_up: this ID number has an account.")
    @blp.alt_response(429, description="Too many sign-ups from this address; Retry-After says when to try again.")
    def post(self, body: dict) -> tuple[dict, int]:
        """Sign up as a volunteer of a team — no token needed. The account can sign in at once; the
        team's leader approves it before it can take tasks. Consent is required."""
        volunteer, created = volunteers.sign_up(db.session(), body)
        out = volunteer_out(volunteer)
        db.commit()
        return out, 201 if created else 200

    @require(*volunteers.READERS)
    @blp.arguments(VolunteerListArgs, location="query")
    @blp.response(200, page_of(VolunteerOut))
    def get(self, args: dict) -> dict[str, Any]:
        """Volunteers you may see: your team's (leader), yourself (volunteer), all (auditor, admin)."""
        found = volunteers.listing(
            db.session(), current_principal(), team_id=args.get("team"), status=args.get("status")
        )
        start = (args["page"] - 1) * args["per_page"]
        items = [volunteer_out(v) for v in found[start : start + args["per_page"]]]
        return {"items": items, "page": args["page"], "per_page": args["per_page"], "total": len(found)}


@blp.route("/volunteers/<int:volunteer_id>")
class VolunteerOne(MethodView):
    @require(*volunteers.READERS)
    @blp.response(200, VolunteerOut)
    def get(self, volunteer_id: int) -> dict[str, Any]:
        """One volunteer (no ID number, ever)."""
        return volunteer_out(volunteers.get(db.session(), current_principal(), volunteer_id))


@blp.route("/volunteers/<int:volunteer_id>/decision")
class VolunteerDecision(MethodView):
    @require("partner", "admin")
    @idempotent
    @blp.arguments(SignUpDecisionIn)
    @blp.response(200, VolunteerOut)
    @blp.alt_response(409, description="invalid_transition: the sign-up was already decided otherwise.")
    def post(self, body: dict, volunteer_id: int) -> dict[str, Any]:
        """The team leader approves or declines a sign-up (the same decision again changes nothing)."""
        volunteer = volunteers.decide(
            db.session(), current_principal(), volunteer_id, body["decision"], body.get("reason", "")
        )
        out = volunteer_out(volunteer)
        db.commit()
        return out


@blp.route("/volunteers/<int:volunteer_id>/certificate")
class VolunteerCertificate(MethodView):
    @require(*volunteers.READERS)
    @blp.arguments(CertificatePeriodArgs, location="query")
    @blp.response(200, FILE_DOC, content_type=certificates.PDF_MIMETYPE)
    @blp.alt_response(503, description="no_cjk_font: no font with Chinese characters is installed.")
    def get(self, args: dict, volunteer_id: int) -> Response:
        """The volunteer service certificate (志愿服务证明) for a period (default: this year), as a PDF."""
        today = periods.to_local(utcnow()).date()
        date_to = args.get("date_to") or today
        date_from = args.get("date_from") or date(date_to.year, 1, 1)
        if date_to - date_from > timedelta(days=MAX_CERTIFICATE_DAYS):
            raise Invalid("A certificate covers at most three years.", details={"from": ["at most three years"]})
        file = certificates.build(db.session(), current_principal(), volunteer_id, date_from, date_to)
        return download(file.filename, file.mimetype, file.content)


@blp.route("/reports/volunteers")
class VolunteerFigures(MethodView):
    @require(*volunteer_figures.READERS)
    @blp.arguments(FiguresArgs, location="query")
    @blp.response(200, FiguresOut)
    @blp.alt_response(200, schema=FILE_DOC, content_type=volunteer_figures.XLSX_MIMETYPE, success=True)
    def get(self, args: dict) -> Any:
        """Teams, active volunteers, hours and person-times per community, and task response times,
        against the previous period (default: the last 30 days); `format=xlsx` for a workbook."""
        found = volunteer_figures.figures(
            db.session(), current_principal(), args.get("date_from"), args.get("date_to"), args.get("district")
        )
        if args["format"] == "xlsx":
            name, content = volunteer_figures.to_xlsx(found)
            return download(name, volunteer_figures.XLSX_MIMETYPE, content)
        out = asdict(found)
        for key in ("period", "previous_period"):
            out[key]["days"] = getattr(found, key).days
        return out
