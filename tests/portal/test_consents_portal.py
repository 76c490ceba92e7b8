"""Consent on the household page: the caseworker records a member's consent with the
photo of the signed form (a minor's signed by the guardian named), withdraws it with the
family's reason, and a double tap does each once; a minor's consent without a guardian
is refused with a message; the auditor reads the records and the photo but is offered
no form; a partner never reaches the page or the photo."""

from __future__ import annotations

import io

from sqlalchemy import select

from broker.platform import db
from broker.registry import consents
from models import Consent, Member
from tests.portal.test_once import flashes, once_key
from tests.support.images import png


def _members(household_id: int) -> dict[str, int]:
    db.session.remove()
    rows = db.session().execute(select(Member.relation, Member.id).where(Member.household_id == household_id)).all()
    return dict(rows)


def _consents(household_id: int) -> list[Consent]:
    db.session.remove()
    stmt = select(Consent).where(Consent.household_id == household_id).order_by(Consent.id)
    return list(db.session().execute(stmt).scalars())


def _record(portal, loop, **fields):
    page_path = f"/caseworker/households/{loop.household_id}"
    action = f"/caseworker/households/{loop.household_id}/consents"
    page = portal.text(page_path)
    body = {"once_key": once_key(page, action), **fields}
    return portal.post(action, body, content_type="multipart/form-data"), body, action


def test_a_minors_consent_with_the_form_photo_is_recorded_once(portal, loop):
    """Sent twice with its key, the son's consent (signed by his father, the photo taken
    on the phone) is recorded once; it permits volunteer contact for him; the photo is
    shown on the page and served only to those who may see the household."""
    portal.login(loop.caseworker)
    people = _members(loop.household_id)
    fields = {
        "member": str(people["child"]),
        "purpose": "volunteer_contact",
        "guardian": str(people["head"]),
        "evidence": "同意书-2026-017",
    }
    resp, body, action = _record(portal, loop, **fields, photo=(io.BytesIO(png()), "form.png"))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    again = portal.post(action, {**body, "photo": (io.BytesIO(png()), "form.png")}, content_type="multipart/form-data")
    assert again.status_code in (302, 303)
    [made] = _consents(loop.household_id)
    assert (made.member_id, made.guardian_member_id, made.purpose) == (
        people["child"],
        people["head"],
        "volunteer_contact",
    )
    assert made.evidence_token
    assert consents.permits(db.session(), loop.household_id, "volunteer_contact", people["child"])
    page = portal.text(f"/caseworker/households/{loop.household_id}")
    assert f"/caseworker/consents/{made.id}/photo" in page
    assert "同意书-2026-017" in page
    photo = portal.get(f"/caseworker/consents/{made.id}/photo")
    assert photo.status_code == 200
    assert photo.mimetype == "image/png"
    assert photo.headers["Cache-Control"] == "private, no-store"


def test_a_minors_consent_without_a_guardian_is_refused(portal, loop):
    """No guardian for the son: nothing is recorded and the page says why."""
    portal.login(loop.caseworker)
    people = _members(loop.household_id)
    resp, _body, _action = _record(
        portal, loop, member=str(people["child"]), purpose="sms", guardian="", evidence="表1"
    )
    assert resp.status_code == 302
    page = portal.text(resp.headers["Location"])
    assert "监护人" in flashes(page)
    assert _consents(loop.household_id) == []


def test_withdrawing_says_why_and_is_done_once(portal, loop):
    """The head's consent to share, withdrawn with the family's reason: the page shows it
    withdrawn with the reason, the household no longer permits sharing, and sending the
    form again withdraws nothing more."""
    portal.login(loop.caseworker)
    people = _members(loop.household_id)
    resp, _body, _action = _record(
        portal, loop, member=str(people["head"]), purpose="share_with_partners", evidence="表2"
    )
    assert resp.status_code == 302
    [made] = _consents(loop.household_id)
    assert consents.permits(db.session(), loop.household_id, "share_with_partners")
    action = f"/caseworker/consents/{made.id}/withdraw"
    page = portal.text(f"/caseworker/households/{loop.household_id}")
    body = {"once_key": once_key(page, action), "reason": "家属担心被认出"}
    assert portal.post(action, body).status_code == 302
    assert portal.post(action, body).status_code in (302, 303)
    [withdrawn] = _consents(loop.household_id)
    assert withdrawn.withdrawal_reason == "家属担心被认出"
    assert not consents.permits(db.session(), loop.household_id, "share_with_partners")
    page = portal.text(f"/caseworker/households/{loop.household_id}")
    assert "家属担心被认出" in page


def test_auditors_read_partners_never(portal, new_portal, loop):
    """The auditor sees the consent and its photo but no form; a partner gets no page and no photo."""
    portal.login(loop.caseworker)
    people = _members(loop.household_id)
    photo = (io.BytesIO(png()), "form.png")
    resp, _body, _action = _record(portal, loop, member=str(people["head"]), purpose="sms", evidence="", photo=photo)
    assert resp.status_code == 302
    [made] = _consents(loop.household_id)
    auditor = new_portal()
    auditor.login(loop.auditor)
    page = auditor.text(f"/caseworker/households/{loop.household_id}")
    assert f"consent-{made.id}" in page
    assert f"/caseworker/households/{loop.household_id}/consents" not in page
    assert "/withdraw" not in page
    assert auditor.get(f"/caseworker/consents/{made.id}/photo").status_code == 200
    partner = new_portal()
    partner.login(loop.partner)
    assert partner.get(f"/caseworker/households/{loop.household_id}").status_code == 403
    assert partner.get(f"/caseworker/consents/{made.id}/photo").status_code == 403
