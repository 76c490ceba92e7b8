"""The caseworker's pages: the needs no partner could take (first) and the households of
my grids with their open needs, the coverage view (who has not been visited lately), one
household with everything about it, the forms to record a visit and a needs assessment,
and the actions that steer a request (retry routing, refer by hand and record the
organisation's answer, hold, resume, withdraw, retry automatically).

Scope is the registry's: a household on another caseworker's grid is "not found".
Auditors and admins may read a household page (auditors read everything) but the forms
are the caseworker's: the domain refuses anyone else's writes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from broker.community import leads
from broker.platform import db
from broker.platform.errors import DomainError
from broker.portal import registry_errors
from broker.portal.auth import current_principal, role_required
from broker.portal.forms import AssessmentForm, CoverageForm
from broker.portal.i18n import label
from broker.portal.lead_forms import URGENCY_LABELS
from broker.portal.once import once
from broker.portal.pages import commit, page_arg, refused
from broker.portal.request_forms import (
    ActionForm,
    AutoRetryForm,
    CompleteRequestForm,
    HoldForm,
    OutcomeForm,
    PolicyOverrideForm,
    ReferForm,
    RevokeForm,
)
from broker.portal.request_labels import assessment_outcome
from broker.referral import assessment, followup_visits, lifecycle, policy_holds, receipts, referrals, requests
from broker.registry import grids, households, visits

bp = Blueprint("portal_caseworker", __name__, url_prefix="/caseworker")
PER_PAGE = 25
READERS = ("caseworker", "auditor", "admin")


def _open_requests(session: Any, principal: Any, household_id: int) -> list:
    """The household's requests still being worked on (active or on hold)."""
    found = requests.list_requests(session, principal, household=household_id, per_page=100).items
    return [r for r in found if r.status not in lifecycle.TERMINAL_REQUEST]


@bp.get("/")
@role_required("caseworker")
def home() -> str:
    """First, the needs no partner could take, with the reasons and the actions (retry,
    refer by hand, hold, withdraw); then my grids' households, newest first, each with
    its open needs."""
    principal = current_principal()
    session = db.session()
    q = (request.args.get("q") or "").strip()[:80]
    inactive = request.args.get("state") == "inactive"
    # A search finds a household in any state (to take one back); the list is the active ones.
    state = "inactive" if inactive else (None if q else "active")
    page = households.list_households(
        session, principal, q=q or None, state=state, page=page_arg(request.args.get("page")), per_page=PER_PAGE
    )
    open_needs = {h.id: _open_requests(session, principal, h.id) for h in page.items}
    my_grids = grids.list_grids(session, principal).items
    unmatched = requests.list_requests(
        session, principal, status="active", routing_state=lifecycle.UNMATCHED, per_page=50
    ).items
    unmatched_households = {
        r.household_id: households.get_household(session, principal, r.household_id) for r in unmatched
    }
    return render_template(
        "portal/caseworker/home.html",
        page=page,
        open_needs=open_needs,
        grids=my_grids,
        q=q,
        inactive=inactive,
        unmatched=unmatched,
        unmatched_households=unmatched_households,
        overdue_follow_ups=followup_visits.overdue(session, principal),
        unreceived=receipts.unreceived(session, principal, limit=20),
        leads_waiting=leads.waiting(session, principal),
        lead_urgencies=URGENCY_LABELS,
        **action_forms(session, principal),
    )


def action_forms(session: Any, principal: Any, back: str = "home") -> dict[str, Any]:
    """Empty forms for the actions on a request (each page fills in its request's id)."""
    refer = ReferForm(formdata=None, back=back)
    refer.partner_id.choices = [SelectChoice("", _("— pick one —"))] + [
        SelectChoice(str(p.id), p.name) for p in referrals.organisations(session, principal)
    ]
    return {
        "action_form": ActionForm(formdata=None, back=back),
        "hold_form": HoldForm(formdata=None, back=back),
        "revoke_form": RevokeForm(formdata=None, back=back),
        "auto_retry_form": AutoRetryForm(formdata=None, back=back),
        "refer_form": refer,
        "outcome_form": OutcomeForm(formdata=None, back=back),
        "complete_form": CompleteRequestForm(formdata=None, back=back),
        "override_form": PolicyOverrideForm(formdata=None, back=back),
    }


@bp.get("/coverage")
@role_required("caseworker", "admin", "auditor")
def coverage() -> str:
    """No household missed: households not visited in N days (never-visited first)."""
    principal = current_principal()
    form = CoverageForm(request.args)
    days = form.days.data if form.validate() and form.days.data else 30
    result = visits.coverage(
        db.session(),
        principal,
        grid=(request.args.get("grid") or None),
        not_visited_days=days,
        page=page_arg(request.args.get("page")),
        per_page=PER_PAGE,
    )
    session = db.session()
    return render_template(
        "portal/caseworker/coverage.html",
        form=form,
        result=result,
        days=days,
        overdue_follow_ups=followup_visits.overdue(session, principal),
        overdue_by_grid=followup_visits.overdue_by_grid(session, principal),
    )


@bp.route("/households/<int:household_id>/assessment", methods=["GET", "POST"])
@role_required("caseworker", "admin")
@once
def new_assessment(household_id: int) -> Response | tuple[str, int]:
    """Record a needs assessment (需求评估): each need becomes a request and is routed. A
    need identical to one recorded for the household lately is shown beside the earlier
    request and recorded only when the caseworker confirms it."""
    principal = current_principal()
    session = db.session()
    household = households.get_household(session, principal, household_id, write=True)
    form = AssessmentForm()
    status = 200
    duplicates: list[dict[str, Any]] = []
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
            _created, outcomes = assessment.create_and_route(
                session,
                principal,
                household.id,
                {"summary": form.summary.data or "", "needs": needs, "confirm_duplicate": form.confirm_duplicate.data},
            )
        except DomainError as exc:
            if exc.code == "possible_duplicate":
                db.session.rollback()
                status, duplicates = 409, _duplicates(exc)
            else:
                status = registry_errors.refuse(exc)  # says "no longer on the active list" too
                _attach_need_errors(form, exc)
        else:
            said = [assessment_outcome(o, label(o["category"], "category")) for o in outcomes]
            commit(_("Assessment saved.") + " " + " ".join(said))
            return redirect(url_for(".household", household_id=household.id))
    elif request.method == "POST":
        status = 400
    return (
        render_template("portal/caseworker/assessment.html", household=household, form=form, duplicates=duplicates),
        status,
    )


def _duplicates(error: DomainError) -> list[dict[str, Any]]:
    """The domain's ``possible_duplicate`` details, for the confirm step."""
    return [
        {**d, "need": d["need"] + 1, "created_at": datetime.fromisoformat(d["created_at"])}
        for d in (error.details or {}).get("duplicates", [])
    ]


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


# --- steering a request ------------------------------------------------------------------


def _steer(request_id: int, form: Any, call: Callable[[Any, Any], Any], done: str) -> Response:
    """Run one action on a request from a posted form, then go back where the caseworker
    was (their list, or the household's page at the request)."""
    principal = current_principal()
    session = db.session()
    req = requests.get_request(session, principal, request_id, write=True)
    household_id = req.household_id
    if not form.validate_on_submit():
        said = [str(e) for errors in form.errors.values() for e in errors if not isinstance(e, dict)]
        flash(" ".join(said) or _("The form was not accepted; check it and send it again."), "error")
    else:
        try:
            call(session, principal)
        except DomainError as exc:
            refused(exc)
        else:
            commit(done)
    if form.back.data == "household":
        return redirect(url_for(".household", household_id=household_id, _anchor=f"request-{request_id}"))
    return redirect(url_for(".home"))


@bp.post("/requests/<int:request_id>/retry")
@role_required("caseworker", "admin")
@once
def retry(request_id: int) -> Response:
    """Route an unmatched request again (reopened, not re-assessed)."""
    return _steer(
        request_id,
        ActionForm(),
        lambda s, p: requests.retry(s, p, request_id),
        _("Request %(id)s is being routed again.", id=request_id),
    )


@bp.post("/requests/<int:request_id>/hold")
@role_required("caseworker", "admin")
@once
def hold(request_id: int) -> Response:
    form = HoldForm()
    return _steer(
        request_id,
        form,
        lambda s, p: requests.hold(s, p, request_id, form.reason.data or ""),
        _("Request %(id)s is on hold.", id=request_id),
    )


@bp.post("/requests/<int:request_id>/resume")
@role_required("caseworker", "admin")
@once
def resume(request_id: int) -> Response:
    return _steer(
        request_id,
        ActionForm(),
        lambda s, p: requests.resume(s, p, request_id),
        _("Request %(id)s is active again.", id=request_id),
    )


@bp.post("/requests/<int:request_id>/policy-override")
@role_required("caseworker", "admin")
@once
def policy_override(request_id: int) -> Response:
    """Route an urgent need in full now, not waiting for the policy: the held amount goes
    to routing, with the caseworker's reason on the timeline."""
    form = PolicyOverrideForm()
    return _steer(
        request_id,
        form,
        lambda s, p: policy_holds.override(s, p, request_id, form.reason.data or ""),
        _("Request %(id)s is routed in full: the held amount is offered to partners.", id=request_id),
    )


@bp.post("/requests/<int:request_id>/complete")
@role_required("caseworker", "admin")
@once
def complete(request_id: int) -> Response:
    """Confirm the family has the help, as it is (a partly covered request too): offers
    still unanswered are withdrawn; accepted ones stay with their partners."""
    form = CompleteRequestForm()
    return _steer(
        request_id,
        form,
        lambda s, p: requests.complete(s, p, request_id, form.note.data or ""),
        _("Request %(id)s is completed.", id=request_id),
    )


@bp.post("/requests/<int:request_id>/withdraw")
@role_required("caseworker", "admin")
@once
def withdraw(request_id: int) -> Response:
    form = RevokeForm()
    return _steer(
        request_id,
        form,
        lambda s, p: requests.revoke(s, p, request_id, form.reason_code.data, form.note.data or ""),
        _("Request %(id)s is withdrawn.", id=request_id),
    )


@bp.post("/requests/<int:request_id>/auto-retry")
@role_required("caseworker", "admin")
@once
def auto_retry(request_id: int) -> Response:
    form = AutoRetryForm()
    return _steer(
        request_id,
        form,
        lambda s, p: requests.set_auto_retry(s, p, request_id, bool(form.enabled.data)),
        _("Automatic retry is on.") if form.enabled.data else _("Automatic retry is off."),
    )


@bp.post("/requests/<int:request_id>/refer")
@role_required("caseworker", "admin")
@once
def refer(request_id: int) -> Response:
    """Record a referral by hand to a named organisation."""
    form = ReferForm()
    form.partner_id.choices = []

    def call(session: Any, principal: Any) -> None:
        chosen = (form.partner_id.data or "").strip()
        referrals.refer(
            session,
            principal,
            request_id,
            {
                "partner_id": int(chosen) if chosen.isdigit() else None,
                "organisation": form.organisation.data or "",
                "contact": form.contact.data or "",
                "note": form.note.data or "",
            },
        )

    return _steer(request_id, form, call, _("Referral recorded: record the organisation's answer when you have it."))


@bp.post("/referrals/<int:offer_id>/outcome")
@role_required("caseworker", "admin")
@once
def referral_outcome(offer_id: int) -> Response:
    """Record the organisation's answer to a referral."""
    form = OutcomeForm()

    def call(session: Any, principal: Any) -> None:
        data = {"outcome": form.outcome.data, "note": form.note.data or ""}
        if form.amount.data:
            data["amount_fen"] = form.amount.data
        if form.paid.data:
            data["paid_fen"] = form.paid.data
        referrals.record_outcome(session, principal, offer_id, data)

    request_id = referrals.request_of(db.session(), offer_id)
    return _steer(request_id, form, call, _("The organisation's answer is recorded."))
