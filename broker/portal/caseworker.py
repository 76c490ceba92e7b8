"""The caseworker's pages: the households of my grids with their open needs, the coverage
view (who has not been visited lately), one household with everything about it, and
the forms to record a visit and a needs assessment.

Scope is the registry's: a household on another caseworker's grid is "not found".
Auditors and admins may read a household page (auditors read everything) but the forms
are the caseworker's: the domain refuses anyone else's writes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from broker import assessment, db, lifecycle, registry, requests, timeline
from broker.errors import DomainError
from broker.policy import applications
from broker.policy import package as policy_package
from broker.portal.auth import current_principal, role_required
from broker.portal.forms import AssessmentForm, CoverageForm, VisitForm
from broker.portal.pages import attach_field_errors, commit, page_arg, refused

bp = Blueprint("portal_caseworker", __name__, url_prefix="/caseworker")
PER_PAGE = 25
READERS = ("caseworker", "auditor", "admin")


def _open_requests(session: Any, principal: Any, household_id: int) -> list:
    """The household's requests still being worked on (not completed, cancelled or failed)."""
    found = requests.list_requests(session, principal, household=household_id, per_page=100).items
    return [r for r in found if r.status not in lifecycle.TERMINAL_REQUEST]


@bp.get("/")
@role_required("caseworker")
def home() -> str:
    """My grids' households, newest first, each with its open needs."""
    principal = current_principal()
    session = db.session()
    q = (request.args.get("q") or "").strip()[:80]
    page = registry.list_households(
        session, principal, q=q or None, page=page_arg(request.args.get("page")), per_page=PER_PAGE
    )
    open_needs = {h.id: _open_requests(session, principal, h.id) for h in page.items}
    grids = registry.list_grids(session, principal).items
    return render_template("portal/caseworker/home.html", page=page, open_needs=open_needs, grids=grids, q=q)


@bp.get("/coverage")
@role_required("caseworker", "admin", "auditor")
def coverage() -> str:
    """No household missed: households not visited in N days (never-visited first)."""
    principal = current_principal()
    form = CoverageForm(request.args)
    days = form.days.data if form.validate() and form.days.data else 30
    result = registry.coverage(
        db.session(),
        principal,
        grid=(request.args.get("grid") or None),
        not_visited_days=days,
        page=page_arg(request.args.get("page")),
        per_page=PER_PAGE,
    )
    return render_template("portal/caseworker/coverage.html", form=form, result=result, days=days)


def _household_context(household_id: int) -> dict[str, Any]:
    principal = current_principal()
    session = db.session()
    household = registry.get_household(session, principal, household_id)
    reqs = requests.list_requests(session, principal, household=household.id, per_page=100).items
    timelines = {r.id: timeline.events(session, r.id) for r in reqs}
    partner_names: dict[int, str] = {}
    for events in timelines.values():
        for event in events:
            for chosen in event["details"].get("chosen") or []:
                partner_names[chosen.get("partner_id")] = chosen.get("partner")
    return {
        "household": household,
        "members": [(m, registry.masked_id(m)) for m in household.members],
        "visits": registry.list_visits(session, principal, household.id, per_page=10),
        "assessments": assessment.view(session, assessment.list_assessments(session, principal, household.id)),
        "requests": reqs,
        "timelines": timelines,
        "partner_names": partner_names,
        "package": policy_package.policy_package(session, principal, household.id),
        "applications": [
            applications.describe(app) for app in applications.list_applications(session, principal, household.id).items
        ],
        "can_write": principal.role in ("caseworker", "admin"),
    }


@bp.get("/households/<int:household_id>")
@role_required(*READERS)
def household(household_id: int) -> str:
    """Everything about one household: members (ID numbers masked), visits, needs, each
    request with its timeline and routing reasons, and its policy package."""
    return render_template("portal/caseworker/household.html", **_household_context(household_id))


@bp.route("/households/<int:household_id>/visit", methods=["GET", "POST"])
@role_required("caseworker", "admin")
def visit(household_id: int) -> Response | tuple[str, int]:
    """Record a visit (走访): channel, when, what was found."""
    principal = current_principal()
    session = db.session()
    household = registry.get_household(session, principal, household_id, write=True)
    form = VisitForm()
    status = 200
    if form.validate_on_submit():
        when = form.visited_at.data
        try:
            registry.record_visit(
                session,
                principal,
                household.id,
                {"channel": form.channel.data, "visited_at": when, "findings": form.findings.data or ""},
            )
        except DomainError as exc:
            status = refused(exc)
            attach_field_errors(form, exc, {"visited_at": "visited_at", "channel": "channel"})
        else:
            commit(_("Visit recorded."))
            return redirect(url_for(".household", household_id=household.id))
    elif request.method == "POST":
        status = 400
    return render_template("portal/caseworker/visit.html", household=household, form=form), status


@bp.route("/households/<int:household_id>/assessment", methods=["GET", "POST"])
@role_required("caseworker", "admin")
def new_assessment(household_id: int) -> Response | tuple[str, int]:
    """Record a needs assessment (需求评估): each need becomes a request and is routed."""
    principal = current_principal()
    session = db.session()
    household = registry.get_household(session, principal, household_id, write=True)
    form = AssessmentForm()
    status = 200
    if form.validate_on_submit():
        needs = [
            {
                "category": entry.form.category.data,
                "urgency": entry.form.urgency.data,
                "amount_fen": entry.form.amount.data,
                "description": entry.form.description.data or "",
            }
            for entry in form.needs.entries
            if not entry.form.is_blank()
        ]
        try:
            created = assessment.create_assessment(
                session, principal, household.id, {"summary": form.summary.data or "", "needs": needs}
            )
        except DomainError as exc:
            status = refused(exc)
            _attach_need_errors(form, exc)
        else:
            count = len(created.needs)
            commit(_("Assessment saved: %(count)s need(s) sent to partners.", count=count))
            return redirect(url_for(".household", household_id=household.id))
    elif request.method == "POST":
        status = 400
    return render_template("portal/caseworker/assessment.html", household=household, form=form), status


def _attach_need_errors(form: AssessmentForm, error: DomainError) -> None:
    """The domain names a need's field as ``needs.<i>.<field>`` (i counts the needs sent,
    blank rows skipped): show each complaint on its row."""
    filled = [entry for entry in form.needs.entries if not entry.form.is_blank()]
    names = {"category": "category", "urgency": "urgency", "amount_fen": "amount", "description": "description"}
    for key, messages in (error.details or {}).items():
        parts = key.split(".")
        if len(parts) != 3 or parts[0] != "needs" or not parts[1].isdigit():
            continue
        index, field = int(parts[1]), names.get(parts[2])
        if index < len(filled) and field:
            target = getattr(filled[index].form, field)
            items = messages if isinstance(messages, list) else [messages]
            target.errors = [*list(target.errors or []), *(_("Refused: %(why)s", why=str(m)) for m in items)]
