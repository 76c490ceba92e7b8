"""Consent on the household page: what each member agreed to, purpose by purpose, with
the signed form's photo; a caseworker of the household's grid records (a guardian for a
minor) and withdraws; auditors and admins read. Each form carries a one-time key, so a
double tap records or withdraws once. The rules are :mod:`broker.registry.consent_records`'."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, flash, redirect, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from broker.platform import db
from broker.platform.errors import DomainError
from broker.platform.scope import Principal
from broker.portal.auth import current_principal, role_required
from broker.portal.caseworker import READERS, bp
from broker.portal.consent_forms import ConsentForm, WithdrawConsentForm
from broker.portal.consent_labels import MESSAGES
from broker.portal.errors import domain_message
from broker.portal.once import once
from broker.portal.pages import commit
from broker.registry import consent_records
from models import Household


def _member_choices(household: Household) -> list[SelectChoice]:
    return [SelectChoice(m.id, m.name) for m in household.members if not m.deceased_on]


def _form(household: Household) -> ConsentForm:
    form = ConsentForm()
    form.member.choices = _member_choices(household)
    form.guardian.choices = [SelectChoice("", _("Not needed (an adult)")), *_member_choices(household)]
    return form


def context(session: Any, principal: Principal, household: Household) -> dict[str, Any]:
    """What the household page shows of consent: every record, newest first, and the forms."""
    records = consent_records.list_consents(session, principal, household.id)
    current = [c for c in records if c.withdrawn_at is None]
    return {
        "consents": [*reversed(current), *reversed([c for c in records if c.withdrawn_at is not None])],
        "consent_evidence": {c.id: consent_records.evidence_text(c.evidence) for c in records},
        "consent_form": _form(household),
        "withdraw_form": WithdrawConsentForm(),
        # Each withdrawal form its own one-time key: a key is spent on one path only.
        "withdraw_keys": {c.id: uuid.uuid4().hex for c in current},
        "can_record_consent": principal.role == "caseworker",
    }


def _back(household_id: int) -> Response:
    return redirect(url_for(".household", household_id=household_id, _anchor="consents"))


def _refuse(error: DomainError) -> None:
    db.session.rollback()
    if error.status in (401, 403, 404):
        raise error
    known = MESSAGES.get(error.code or "")
    flash(str(known) if known is not None else domain_message(error), "error")


@bp.post("/households/<int:household_id>/consents")
@role_required("caseworker")
@once
def record_consent(household_id: int) -> Response:
    """Record one member's consent to one purpose, with the form's number and/or photo."""
    principal = current_principal()
    session = db.session()
    household = consent_records.consent_household(session, principal, household_id, write=True)
    form = _form(household)
    if not form.validate_on_submit():
        problems = [str(e) for f in form for e in f.errors]
        flash(" ".join(problems) or _("The form was not accepted; send it again."), "error")
        return _back(household.id)
    sent = form.photo.data
    photo = consent_records.Photo(filename=sent.filename, data=sent.read()) if sent and sent.filename else None
    body = {
        "member_id": form.member.data,
        "purpose": form.purpose.data,
        "guardian_member_id": form.guardian.data,
        "partner_kinds": form.partner_kinds.data or [],
        "evidence": form.evidence.data or "",
    }
    try:
        consent_records.record(session, principal, household.id, body, photo)
    except DomainError as exc:
        _refuse(exc)
        return _back(household.id)
    commit(_("Consent recorded."))
    return _back(household.id)


@bp.post("/consents/<int:consent_id>/withdraw")
@role_required("caseworker")
@once
def withdraw_consent(consent_id: int) -> Response:
    """Withdraw a consent, with the family's reason."""
    principal = current_principal()
    session = db.session()
    consent = consent_records.get_consent(session, principal, consent_id, write=True)
    household_id = consent.household_id
    form = WithdrawConsentForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for e in form.reason.errors) or _("Say why: the reason goes on the record."), "error")
        return _back(household_id)
    try:
        consent_records.withdraw(session, principal, consent.id, form.reason.data)
    except DomainError as exc:
        _refuse(exc)
        return _back(household_id)
    commit(_("Consent withdrawn: from now on nothing that needs it leaves the broker."))
    return _back(household_id)


@bp.get("/consents/<int:consent_id>/photo")
@role_required(*READERS)
def consent_photo(consent_id: int) -> Response:
    """The photo of the signed form, only to those who may see the household; never cached."""
    consent, data = consent_records.evidence_photo(db.session(), current_principal(), consent_id)
    response = Response(data, mimetype=consent.evidence_content_type)
    response.headers["Content-Disposition"] = f'inline; filename="consent-{consent.id}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
