"""Receipts (签收) in the portal: on the caseworker's phone the family signs on screen,
or the caseworker photographs the signed slip, or types in the code the family got by
SMS; the printable receipt slip; what the families have not confirmed in time — on the
caseworker's home and household pages and the partner's list — and the auditor's
reconciliation (planned, paid, received) with its chart and XLSX export."""

from __future__ import annotations

import base64
import binascii
from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from broker.money import reconciliation
from broker.platform import db
from broker.platform.errors import DomainError
from broker.portal import charts, i18n
from broker.portal.auth import current_principal, role_required
from broker.portal.errors import domain_message
from broker.portal.once import once
from broker.portal.pages import commit
from broker.portal.receipt_forms import ReceiptForm, SendCodeForm
from broker.referral import receipts
from broker.registry import households

bp = Blueprint("portal_receipts", __name__)
WRITERS = ("caseworker", "admin")
SLIP_READERS = ("caseworker", "auditor", "admin")


def _said(error: DomainError) -> str:
    """The refusals of this page in the reader's language."""
    details = error.details or {}
    return {
        "wrong_code": _(
            "That is not the code the family received: %(n)s tries left.", n=details.get("attempts_left", 0)
        ),
        "code_expired": _("The code has expired: send the family a new one."),
        "code_locked": _("Too many wrong codes: send the family a new one."),
        "no_code_sent": _("Send the family a code first."),
        "no_sms_consent": _(
            "The family has not agreed to text messages: let them sign on screen or photograph the slip."
        ),
        "no_phone": _("No mobile number is recorded for the household: add it, or let the family sign on screen."),
        "already_received": _("The family has already confirmed this."),
        "not_an_image": _("That file is not a photo. Take a photo of the signed slip."),
        "file_too_large": _("The photo is too large (at most 8 MB)."),
        "file_empty": _("Nothing was signed or photographed."),
    }.get(error.code) or domain_message(error)


def _back(disbursement_id: int) -> Response:
    return redirect(url_for(".receipt", disbursement_id=disbursement_id))


@bp.route("/caseworker/disbursements/<int:disbursement_id>/receipt", methods=["GET", "POST"])
@role_required(*WRITERS)
@once
def receipt(disbursement_id: int) -> Response | tuple[str, int]:
    """The family confirms on the caseworker's phone: sign, photo, or SMS code."""
    principal = current_principal()
    session = db.session()
    item = receipts.delivered(session, principal, disbursement_id, write=True)
    form = ReceiptForm()
    status = 200
    if form.validate_on_submit():
        method = form.method.data
        image = None
        if method == "signature":
            image = _data_url(form.signature.data or "")
        elif method == "photo":
            image = form.photo.data.read() if form.photo.data else b""
        try:
            outcome = receipts.record_receipt(
                session, principal, disbursement_id, method, image=image, code=form.code.data
            )
        except DomainError as exc:
            db.session.rollback()
            if exc.status in (401, 403, 404):
                raise
            flash(_said(exc), "error")
            status = exc.status
        else:
            if outcome.refusal is not None:
                db.commit()  # the wrong try counts
                flash(_said(outcome.refusal), "error")
                return _back(disbursement_id)
            commit(
                _("Receipt recorded: the family confirmed it.")
                if outcome.created
                else _("The family had already confirmed this.")
            )
            return redirect(
                url_for("portal_caseworker.household", household_id=item.disbursement.household_id, _anchor="received")
            )
    elif request.method == "POST":
        flash(_("Sign, take a photo or type the code first."), "error")
        status = 400
    household = households.get_household(session, principal, item.disbursement.household_id)
    return render_template(
        "portal/caseworker/receipt.html",
        item=item,
        household=household,
        form=form,
        code_form=SendCodeForm(formdata=None),
        sms_possible=receipts.sms_possible(session, household.id),
    ), status


def _data_url(value: str) -> bytes:
    """The bytes of a canvas's ``data:image/png;base64,…`` (empty if it is not one)."""
    head, _sep, data = value.partition(",")
    if not head.startswith("data:image/") or not data:
        return b""
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return b""


@bp.post("/caseworker/disbursements/<int:disbursement_id>/receipt-code")
@role_required(*WRITERS)
@once
def send_code(disbursement_id: int) -> Response:
    """Send the family a one-time code by SMS."""
    try:
        sent = receipts.send_code(db.session(), current_principal(), disbursement_id)
    except DomainError as exc:
        db.session.rollback()
        if exc.status in (401, 403, 404):
            raise
        flash(_said(exc), "error")
        return _back(disbursement_id)
    commit(_("Code sent to %(phone)s. Ask the family to read it to you.", phone=sent.phone_hint))
    return _back(disbursement_id)


@bp.get("/caseworker/disbursements/<int:disbursement_id>/slip")
@role_required(*SLIP_READERS)
def slip(disbursement_id: int) -> str:
    """The receipt slip to print and have signed, with the short code for concerns."""
    principal = current_principal()
    session = db.session()
    item = receipts.delivered(session, principal, disbursement_id)
    household = households.get_household(session, principal, item.disbursement.household_id)
    concern_url = url_for("portal.index", _external=True).rstrip("/") + f"/concerns/new?ref={item.slip_code}"
    return render_template(
        "portal/caseworker/receipt_slip.html", item=item, household=household, concern_url=concern_url
    )


@bp.get("/partner/unreceived")
@role_required("partner")
def partner_unreceived() -> str:
    """What we disbursed that the families have not confirmed in our days."""
    items = receipts.unreceived(db.session(), current_principal())
    return render_template("portal/partner/unreceived.html", items=items)


@bp.get("/caseworker/unreceived")
@role_required("caseworker", "admin", "auditor")
def caseworker_unreceived() -> str:
    """What reached my grids' families and is not confirmed in the partner's days."""
    items = receipts.unreceived(db.session(), current_principal())
    return render_template("portal/caseworker/unreceived.html", items=items)


def _period() -> tuple[date | None, date | None, dict[str, str]]:
    def day(value: str | None) -> date | None:
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            return None

    since, until = day(request.args.get("since")), day(request.args.get("until"))
    if since and until and since > until:
        since, until = until, since
    return since, until, {k: v.isoformat() for k, v in (("since", since), ("until", until)) if v}


@bp.get("/auditor/reconciliation")
@role_required("auditor", "admin")
def auditor_reconciliation() -> str:
    """Planned vs paid vs received per partner and fund, with a chart and the table."""
    since, until, args = _period()
    report = reconciliation.reconciliation(db.session(), since, until)
    return render_template(
        "portal/auditor/reconciliation.html", report=report, chart=_chart(report), since=since, until=until, args=args
    )


def _chart(report: reconciliation.Reconciliation) -> Markup:
    """Per partner: what was paid, and how much of it the families confirmed."""
    bars: list[tuple[str, float, str]] = []
    for r in report.rows:
        bars.append((_("%(partner)s · paid", partner=r.partner), r.paid_fen, i18n.format_yuan(r.paid_fen)))
        bars.append((_("%(partner)s · received", partner=r.partner), r.received_fen, i18n.format_yuan(r.received_fen)))
    return charts.bar_chart(
        bars,
        chart_id="reconciliation",
        title=_("Paid and received per partner"),
        desc=_("For each partner, the money paid out and how much of it the families confirmed."),
        empty=_("Nothing to show for this period."),
    )


@bp.get("/auditor/exports/reconciliation.xlsx")
@role_required("auditor", "admin")
def export_reconciliation() -> Response:
    """The reconciliation as an XLSX workbook."""
    since, until, _args = _period()
    file = reconciliation.export_reconciliation(db.session(), since, until)
    response = Response(file.content, mimetype=file.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response
