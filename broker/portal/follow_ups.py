"""The caseworker's follow-up visit (回访) form: reached from the overdue list on the home
page, the household page or the notification; saving it records the visit and, when the
family has a new need, a new needs assessment — and opens that need on the household page."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from broker.platform import db
from broker.platform.errors import DomainError
from broker.portal.auth import current_principal, role_required
from broker.portal.caseworker import _duplicates, bp
from broker.portal.follow_up_forms import FollowUpForm
from broker.portal.once import once
from broker.portal.pages import commit, refused
from broker.referral import followup_visits
from broker.registry import households
from models import AidRequest, Need


@bp.route("/households/<int:household_id>/follow-ups/<int:follow_up_id>", methods=["GET", "POST"])
@role_required("caseworker")
@once
def follow_up(household_id: int, follow_up_id: int) -> Response | tuple[str, int]:
    """Record a follow-up visit: need met, satisfaction 1–5, notes, and a new need."""
    principal = current_principal()
    session = db.session()
    household = households.get_household(session, principal, household_id, write=True)
    visit = followup_visits.get_follow_up(session, principal, household.id, follow_up_id, write=True)
    req = session.get(AidRequest, visit.request_id)
    form = FollowUpForm()
    status, duplicates = 200, []
    if visit.status != "recorded" and form.validate_on_submit():
        data = {
            "need_met": form.need_met.data,
            "satisfaction": form.satisfaction.data,
            "notes": form.notes.data or "",
            "new_need": form.new_need_data(),
            "confirm_duplicate": form.confirm_duplicate.data,
        }
        try:
            recorded = followup_visits.record(session, principal, household.id, visit.id, data)
        except DomainError as exc:
            if exc.code == "possible_duplicate":
                db.session.rollback()
                status, duplicates = 409, _duplicates(exc)
            else:
                status = refused(exc)
                _attach_need_errors(form, exc)
        else:
            if recorded.new_assessment_id is None:
                commit(_("Follow-up visit recorded."))
                return redirect(url_for(".household", household_id=household.id, _anchor="follow-ups-title"))
            new_request = session.execute(
                select(AidRequest.id)
                .join(Need, Need.id == AidRequest.need_id)
                .where(Need.assessment_id == recorded.new_assessment_id)
            ).scalar_one()
            commit(_("Follow-up visit recorded. The new need is a new assessment and goes to partners now."))
            return redirect(url_for(".household", household_id=household.id, _anchor=f"request-{new_request}"))
    elif request.method == "POST":
        status = 400 if visit.status != "recorded" else 409
    return (
        render_template(
            "portal/caseworker/follow_up.html",
            household=household,
            visit=visit,
            view=followup_visits.view(visit),
            req=req,
            form=form,
            duplicates=duplicates,
        ),
        status,
    )


NEED_FIELDS = {"category": "category", "urgency": "urgency", "amount_fen": "amount", "description": "description"}


def _attach_need_errors(form: FollowUpForm, error: DomainError) -> None:
    """The domain names the new need's fields ``needs.0.<field>``: show each on its field."""
    for key, messages in (error.details or {}).items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "needs" and parts[2] in NEED_FIELDS:
            target = getattr(form.new_need.form, NEED_FIELDS[parts[2]])
            items = messages if isinstance(messages, list) else [messages]
            target.errors = [*list(target.errors or []), *(_("Refused: %(why)s", why=str(m)) for m in items)]
