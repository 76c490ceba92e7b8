"""The reversal queue (红冲): an auditor or an admin — not the proposer — approves or
rejects the reversals that partners propose from an offer's page (``broker.portal.partner``).
The rules (who, when, what the ledger does) are in ``broker.referral.reversals``; these
views only ask and show."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from broker.platform import db
from broker.platform.errors import DomainError
from broker.portal import i18n
from broker.portal.auth import current_principal, role_required
from broker.portal.forms import ApproveReversalForm, RejectReversalForm
from broker.portal.once import once
from broker.portal.pages import commit, refused
from broker.referral import reversals

bp = Blueprint("portal_reversals", __name__)
DECIDERS = reversals.APPROVERS


def _forms(reversal_id: int, formdata: bool = False) -> tuple[ApproveReversalForm, RejectReversalForm]:
    """The two answers to one reversal; their notes get ids of their own on a page of many."""
    data = {} if formdata else {"formdata": None}
    forms = (ApproveReversalForm(**data), RejectReversalForm(**data))
    for form, name in zip(forms, ("approve", "reject"), strict=True):
        form.note.id = form.note.label.field_id = f"{name}-note-{reversal_id}"
    return forms


def _queue(status: int = 200, sent: dict | None = None) -> tuple[str, int]:
    session, principal = db.session(), current_principal()
    pending = reversals.queue_rows(session, principal, "pending")
    recent = reversals.queue_rows(session, principal, None, limit=30)
    forms = {row.reversal.id: _forms(row.reversal.id) for row in pending}
    forms.update(sent or {})
    return (
        render_template(
            "portal/auditor/reversals.html",
            pending=pending,
            decided=[r for r in recent if r.reversal.status != "pending"],
            forms=forms,
            me=principal.user_id,
        ),
        status,
    )


@bp.get("/auditor/reversals")
@role_required(*DECIDERS)
def queue() -> tuple[str, int]:
    """Reversals waiting for a second person's decision, oldest first, and the latest decided."""
    return _queue()


@bp.post("/auditor/reversals/<int:reversal_id>/approve")
@role_required(*DECIDERS)
@once
def approve(reversal_id: int) -> Response | tuple[str, int]:
    form, other = _forms(reversal_id, formdata=True)
    if not form.validate_on_submit():
        return _queue(400, {reversal_id: (form, other)})
    try:
        rev = reversals.approve(db.session(), current_principal(), reversal_id, form.note.data or "")
    except DomainError as exc:
        return _queue(refused(exc), {reversal_id: (form, other)})
    commit(_("Reversal approved: %(amount)s is back from the household.", amount=i18n.format_yuan(rev.amount_fen)))
    return redirect(url_for(".queue"))


@bp.post("/auditor/reversals/<int:reversal_id>/reject")
@role_required(*DECIDERS)
@once
def reject(reversal_id: int) -> Response | tuple[str, int]:
    other, form = _forms(reversal_id, formdata=True)
    if not form.validate_on_submit():
        return _queue(400, {reversal_id: (other, form)})
    try:
        reversals.reject(db.session(), current_principal(), reversal_id, form.note.data)
    except DomainError as exc:
        return _queue(refused(exc), {reversal_id: (other, form)})
    commit(_("Reversal rejected. The disbursement stands."))
    return redirect(url_for(".queue"))
