"""The partner's pages: the inbox of offers, one offer with its answers (accept, decline,
record a disbursement, complete), and the fund.

A partner sees only its own offers (another partner's offer is "not found", as on the
API) and only what it needs about the family: category, amount, urgency, community and
description, with identity numbers removed and names masked unless the household
consented. All of that is decided by ``broker.referral.inbox``; these views only show it."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from broker.money import evidence, fund_balances, funds
from broker.platform import db, periods
from broker.platform.errors import DomainError
from broker.portal import i18n
from broker.portal.auth import current_principal, role_required
from broker.portal.forms import DELIVERY_FORMS, AcceptForm, CompleteForm, InboxFilterForm, RejectForm, ReversalForm
from broker.portal.once import once
from broker.portal.pages import attach_field_errors, commit, page_arg, refused
from broker.referral import inbox as offer_inbox
from broker.referral import lifecycle, offer_export, offers, partners, payments, reversals
from broker.registry import disclosure
from models.base import utcnow
from models.requests import OFFER_STATUSES

bp = Blueprint("portal_partner", __name__, url_prefix="/partner")
PER_PAGE = 20


@bp.get("/")
@role_required("partner")
def inbox() -> str:
    """Offers, the most urgent and the nearest deadline first, with counts per status."""
    principal = current_principal()
    session = db.session()
    form = InboxFilterForm(request.args)
    status = request.args.get("status") or None
    category = request.args.get("category") or None
    if not form.validate():
        status = status if status in OFFER_STATUSES else None
        category = category if category in i18n.CATEGORIES else None
    page = offer_inbox.list_offers(
        session,
        principal,
        status=status,
        category=category,
        page=page_arg(request.args.get("page")),
        per_page=PER_PAGE,
        recipient=disclosure.PARTNER_PORTAL,
    )
    counts = {s: offer_inbox.list_offers(session, principal, status=s, per_page=1).total for s in OFFER_STATUSES}
    return render_template(
        "portal/partner/inbox.html",
        form=form,
        page=page,
        counts=counts,
        status=status,
        category=category,
        statuses=OFFER_STATUSES,
    )


def _blank_delivery_form(kind: str, remaining: int) -> object:
    form_class = DELIVERY_FORMS[kind]
    if kind == "money":
        return form_class(formdata=None, amount=remaining or None)
    if kind == "service":
        return form_class(formdata=None, date=periods.to_local(utcnow()).date())
    return form_class(formdata=None)


def _render_offer(offer_id: int, status: int = 200, **forms: object) -> tuple[str, int]:
    principal = current_principal()
    session = db.session()
    item = offer_inbox.inbox_item(session, principal, offer_id, recipient=disclosure.PARTNER_PORTAL)
    remaining = max(0, item.accepted_fen - item.disbursed_fen)
    disburse_form = forms.get("disburse_form") or _blank_delivery_form(item.kind, remaining)
    paid = offer_inbox.disbursements(session, principal, offer_id)
    live = reversals.for_offer(session, principal, offer_id)
    reversal_form = forms.get("reversal_form") or ReversalForm(formdata=None)
    reversal_form.disbursement.choices = [
        (d.id, f"{i18n.format_datetime(d.created_at)} · {i18n.format_yuan(d.amount_fen)}")
        for d in paid
        if d.kind == "cash" and d.amount_fen > 0 and d.id not in live
    ]
    body = render_template(
        "portal/partner/offer.html",
        item=item,
        disbursements=paid,
        reversals=live,
        reversal_form=reversal_form,
        can_answer=item.status in lifecycle.UNANSWERED,
        can_deliver=item.status in lifecycle.TAKEN,
        remaining=remaining,
        accept_form=forms.get("accept_form") or AcceptForm(formdata=None),
        reject_form=forms.get("reject_form") or RejectForm(formdata=None),
        disburse_form=disburse_form,
        complete_form=forms.get("complete_form") or CompleteForm(formdata=None),
    )
    return body, status


@bp.get("/offers/<int:offer_id>")
@role_required("partner")
def offer(offer_id: int) -> tuple[str, int]:
    """One offer: what the partner needs to decide, and the answers open to it now."""
    return _render_offer(offer_id)


@bp.post("/offers/<int:offer_id>/accept")
@role_required("partner")
@once
def accept(offer_id: int) -> Response | tuple[str, int]:
    form = AcceptForm()
    if not form.validate_on_submit():
        return _render_offer(offer_id, 400, accept_form=form)
    try:
        offer = offers.accept(db.session(), current_principal(), offer_id, form.amount.data)
    except DomainError as exc:
        status = refused(exc)
        attach_field_errors(form, exc, {"amount_fen": "amount"})
        return _render_offer(offer_id, status, accept_form=form)
    kind = offer.request.kind
    if kind == "money":
        commit(_("You accepted the offer. The amount is pledged from your fund."))
    elif kind == "service":
        commit(_("You accepted the offer. Record each session as you give it; nothing is taken from your fund."))
    else:
        commit(_("You accepted the offer. Record the goods as you hand them over; nothing is taken from your fund."))
    return redirect(url_for(".offer", offer_id=offer_id))


@bp.post("/offers/<int:offer_id>/reject")
@role_required("partner")
@once
def reject(offer_id: int) -> Response | tuple[str, int]:
    form = RejectForm()
    if not form.validate_on_submit():
        return _render_offer(offer_id, 400, reject_form=form)
    try:
        offers.reject(db.session(), current_principal(), offer_id, form.reason.data)
    except DomainError as exc:
        status = refused(exc)
        attach_field_errors(form, exc, {"reason": "reason"})
        return _render_offer(offer_id, status, reject_form=form)
    commit(_("You declined the offer. The request goes on to another partner."))
    return redirect(url_for(".offer", offer_id=offer_id))


@bp.post("/offers/<int:offer_id>/disbursements")
@role_required("partner")
@once
def disburse(offer_id: int) -> Response | tuple[str, int]:
    """Record what reached the family, in the offer's own terms: money paid out, a
    service session, or goods handed over."""
    session = db.session()
    kind = offer_inbox.offer_kind(session, current_principal(), offer_id)
    form = DELIVERY_FORMS[kind]()
    if not form.validate_on_submit():
        return _render_offer(offer_id, 400, disburse_form=form)
    upload = None
    file = form.evidence.data
    if file is not None and getattr(file, "filename", ""):
        upload = evidence.Upload(filename=file.filename, content_type=file.mimetype or "", data=file.read())
    reference = (form.reference.data or "").strip()
    if kind == "money":
        sent = {"amount_fen": form.amount.data}
        names = {"amount_fen": "amount", "reference": "reference", "evidence": "evidence"}
    elif kind == "service":
        sent = {
            "session_date": form.date.data,
            "minutes": form.minutes,
            "delivered_by": form.delivered_by.data,
            "notes": form.notes.data or "",
        }
        names = {"date": "date", "hours": "hours", "delivered_by": "delivered_by", "reference": "reference"}
    else:
        sent = {"items": form.filled_items(), "notes": form.notes.data or ""}
        names = {"items": "items", "reference": "reference", "evidence": "evidence"}
    try:
        payments.record_disbursement(session, current_principal(), offer_id, reference=reference, upload=upload, **sent)
    except DomainError as exc:
        status = refused(exc)
        attach_field_errors(form, exc, names)
        return _render_offer(offer_id, status, disburse_form=form)
    commit(_recorded_message(kind, form))
    return redirect(url_for(".offer", offer_id=offer_id))


def _recorded_message(kind: str, form: object) -> str:
    if kind == "money":
        return _("Disbursement of %(amount)s recorded.", amount=i18n.format_yuan(form.amount.data))
    if kind == "service":
        return _(
            "Session of %(hours)s hours on %(date)s recorded.",
            hours=i18n.format_hours(form.minutes),
            date=form.date.data.isoformat(),
        )
    return _("Goods handed over recorded: %(count)s item(s).", count=len(form.filled_items()))


@bp.post("/offers/<int:offer_id>/complete")
@role_required("partner")
@once
def complete(offer_id: int) -> Response | tuple[str, int]:
    form = CompleteForm()
    if not form.validate_on_submit():
        return _render_offer(offer_id, 400, complete_form=form)
    try:
        offers.complete(
            db.session(),
            current_principal(),
            offer_id,
            form.note.data or "",
            more_available=bool(form.more_available.data),
        )
    except DomainError as exc:
        return _render_offer(offer_id, refused(exc), complete_form=form)
    commit(_("The offer is completed. Thank you."))
    return redirect(url_for(".offer", offer_id=offer_id))


@bp.get("/fund")
@role_required("partner")
def fund() -> str:
    """The partner's fund: balance, its parts (restricted and unrestricted), what is
    pledged on accepted offers, and its history with the running balances."""
    principal = current_principal()
    session = db.session()
    partner = partners.get_partner(session, principal, principal.partner_id)
    pledged = [
        item
        for status in lifecycle.TAKEN
        for item in offer_inbox.list_offers(
            session, principal, status=status, per_page=100, recipient=disclosure.PARTNER_PORTAL
        ).items
    ]
    history = funds.fund_history(session, partner.id, page=page_arg(request.args.get("page")), per_page=PER_PAGE)
    parts = fund_balances.partner_parts(session, partner.id)["parts"]
    return render_template("portal/partner/fund.html", partner=partner, history=history, pledged=pledged, parts=parts)


@bp.post("/offers/<int:offer_id>/reversals")
@role_required("partner")
@once
def propose_reversal(offer_id: int) -> Response | tuple[str, int]:
    """Propose reversing (红冲) one of this offer's disbursements recorded in error; an
    auditor decides (see ``broker.portal.reversals``)."""
    form = ReversalForm()
    if not form.validate_on_submit():
        return _render_offer(offer_id, 400, reversal_form=form)
    try:
        reversals.propose(
            db.session(), current_principal(), form.disbursement.data, form.reason.data, offer_id=offer_id
        )
    except DomainError as exc:
        status = refused(exc)
        attach_field_errors(form, exc, {"reason": "reason"})
        return _render_offer(offer_id, status, reversal_form=form)
    commit(_("Reversal proposed. An auditor will approve or reject it; until then the disbursement stands."))
    return redirect(url_for(".offer", offer_id=offer_id))


@bp.get("/exports/offers.<fmt>")
@role_required("partner")
def export_offers(fmt: str) -> Response:
    """The partner's offers as CSV or XLSX, with only what a partner may know of each family."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    file = offer_export.export_offers(db.session(), current_principal(), fmt)
    response = Response(file.content, mimetype=file.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
