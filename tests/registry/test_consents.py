"""Consent records over the API: a caseworker of the household's grid records and
withdraws a member's consent purpose by purpose (a minor's by a named guardian), and
``consents.permits`` answers from the records — per purpose, per member, per kind of
partner, and no longer once withdrawn. The household's ``consent_to_share`` field keeps
working for existing clients: writing it records or withdraws the head's consent."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from broker.platform import db
from broker.registry import consents
from models import AuditEvent, Consent
from tests.support.aid import make_world

API = "/api/v1"
FAMILY = [
    {"name": "王建国", "relation": "head", "birth_date": "1981-03-14", "sex": "M"},
    {"name": "李秀英", "relation": "spouse", "birth_date": "1983-08-02", "sex": "F"},
    {"name": "王小军", "relation": "child", "birth_date": "2012-05-20", "sex": "M"},
]


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


@pytest.fixture
def family(world) -> dict[str, Any]:
    """A household of three (the son a minor) and its members' ids by relation."""
    hid = world.household(head="王建国", members=FAMILY)
    members = world.caseworker.get(f"{API}/households/{hid}").get_json()["members"]
    return {"id": hid, **{m["relation"]: m["id"] for m in members}}


def permits(household_id: int, purpose: str, member_id: int | None = None, **kw: Any) -> bool:
    db.session.remove()
    answer = consents.permits(db.session(), household_id, purpose, member_id, **kw)
    db.session.remove()
    return answer


def record(world, household_id: int, **body: Any):
    return world.caseworker.post(f"{API}/households/{household_id}/consents", json={"evidence": "表-001", **body})


def test_permits_answers_per_purpose_and_per_member(world, family):
    """The head's consent to SMS permits SMS for the household, nothing else; the
    spouse's consent to points permits points for her, not for the household (its head)."""
    hid = family["id"]
    assert not any(permits(hid, p) for p in consents.PURPOSES)
    assert record(world, hid, member_id=family["head"], purpose="sms").status_code == 201
    assert record(world, hid, member_id=family["spouse"], purpose="points").status_code == 201
    assert permits(hid, "sms")
    assert permits(hid, "sms", family["head"])
    assert not permits(hid, "points")
    assert permits(hid, "points", family["spouse"])
    assert not permits(hid, "sms", family["spouse"])
    assert not permits(hid, "share_with_partners")
    with pytest.raises(ValueError):
        permits(hid, "sell_data")


def test_a_minors_consent_needs_a_guardian(world, family):
    """A minor's consent without a guardian is refused (422 guardian_required); the
    guardian must be another adult member; given by the mother, it counts for the son."""
    hid, son = family["id"], family["child"]
    refused = record(world, hid, member_id=son, purpose="volunteer_contact")
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "guardian_required"
    assert "guardian_member_id" in refused.get_json()["error"]["details"]
    himself = record(world, hid, member_id=son, purpose="volunteer_contact", guardian_member_id=son)
    assert himself.get_json()["error"]["code"] == "guardian_invalid"
    assert not permits(hid, "volunteer_contact", son)
    made = record(world, hid, member_id=son, purpose="volunteer_contact", guardian_member_id=family["spouse"])
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["guardian_member_id"] == family["spouse"]
    assert permits(hid, "volunteer_contact", son)
    assert not permits(hid, "volunteer_contact")  # the head did not agree


def test_withdrawal_stops_the_purpose_and_keeps_the_record(world, family):
    """Withdrawn with a reason, the consent no longer permits; it stays listed with who,
    when and why; withdrawing again is a 409; both changes are on the audit chain."""
    hid = family["id"]
    made = record(world, hid, member_id=family["head"], purpose="public_notice").get_json()
    assert permits(hid, "public_notice")
    blank = world.caseworker.post(f"{API}/consents/{made['id']}/withdraw", json={"reason": "   "})
    assert blank.status_code == 422
    done = world.caseworker.post(f"{API}/consents/{made['id']}/withdraw", json={"reason": "家属不愿公示"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["current"] is False
    assert done.get_json()["withdrawal_reason"] == "家属不愿公示"
    assert not permits(hid, "public_notice")
    again = world.caseworker.post(f"{API}/consents/{made['id']}/withdraw", json={"reason": "再次"})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "consent_withdrawn"
    listed = world.caseworker.get(f"{API}/households/{hid}/consents").get_json()
    assert [(c["purpose"], c["current"], c["withdrawn_by"] is not None) for c in listed] == [
        ("public_notice", False, True)
    ]
    actions = db.session().scalars(select(AuditEvent.action).where(AuditEvent.household_id == hid)).all()
    assert actions.count("consent.recorded") == 1
    assert actions.count("consent.withdrawn") == 1
    chained = db.session().scalars(select(AuditEvent.after).where(AuditEvent.action == "consent.recorded")).all()
    assert all("王" not in (after or "") and "表-001" not in (after or "") for after in chained)


def test_sending_twice_records_once(world, family):
    """The same consent sent again while current is a 409 consent_exists; with an
    Idempotency-Key the repeat replays the first answer; either way one record."""
    hid, head = family["id"], family["head"]
    key = {"Idempotency-Key": "consent-form-7f3a"}
    body = {"member_id": head, "purpose": "sms", "evidence": "表-002"}
    first = world.caseworker.post(f"{API}/households/{hid}/consents", json=body, headers=key)
    replay = world.caseworker.post(f"{API}/households/{hid}/consents", json=body, headers=key)
    assert first.status_code == replay.status_code == 201
    assert replay.headers.get("Idempotency-Replayed") == "true"
    assert replay.get_json()["id"] == first.get_json()["id"]
    again = world.caseworker.post(f"{API}/households/{hid}/consents", json=body)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "consent_exists"
    assert (
        db.session().scalar(
            select(Consent.id).where(Consent.household_id == hid).where(Consent.id != first.get_json()["id"])
        )
        is None
    )


def test_sharing_narrowed_to_kinds_of_partner(world, family):
    """A consent to share with charities only permits sharing with a charity, not with a
    company, and does not make the household's consent_to_share (every partner) true."""
    hid = family["id"]
    made = record(world, hid, member_id=family["head"], purpose="share_with_partners", partner_kinds=["charity"])
    assert made.status_code == 201, made.get_json()
    assert permits(hid, "share_with_partners", partner_kind="charity")
    assert not permits(hid, "share_with_partners", partner_kind="company")
    assert not permits(hid, "share_with_partners")
    assert world.caseworker.get(f"{API}/households/{hid}").get_json()["consent_to_share"] is False
    wrong = record(world, hid, member_id=family["head"], purpose="sms", partner_kinds=["charity"])
    assert wrong.status_code == 422
    assert "partner_kinds" in wrong.get_json()["error"]["details"]


def test_consent_to_share_field_records_and_withdraws_the_heads_consent(world, family):
    """PATCH consent_to_share=true records the head's share consent (the field reads
    true); false withdraws it; a household created with true starts with one."""
    hid = family["id"]
    patched = world.caseworker.patch(f"{API}/households/{hid}", json={"consent_to_share": True})
    assert patched.status_code == 200
    assert patched.get_json()["consent_to_share"] is True
    listed = world.caseworker.get(f"{API}/households/{hid}/consents").get_json()
    assert [(c["member_id"], c["purpose"], c["current"]) for c in listed] == [
        (family["head"], "share_with_partners", True)
    ]
    assert permits(hid, "share_with_partners", partner_kind="company")
    off = world.caseworker.patch(f"{API}/households/{hid}", json={"consent_to_share": False})
    assert off.get_json()["consent_to_share"] is False
    assert not permits(hid, "share_with_partners", partner_kind="charity")
    assert world.caseworker.get(f"{API}/households/{hid}/consents").get_json()[0]["current"] is False
    agreed = world.household(head="刘德华", consent=True)
    assert permits(agreed, "share_with_partners")
    assert world.caseworker.get(f"{API}/households/{agreed}").get_json()["consent_to_share"] is True


def test_scope_caseworkers_write_auditors_read_partners_never(world, family, as_role, make_user, login):
    """Another grid's caseworker gets 404; auditors and admins read but may not record or
    withdraw (403); partners get 403 on all; bad input is a 422 with the envelope."""
    hid = family["id"]
    made = record(world, hid, member_id=family["head"], purpose="sms").get_json()
    body = {"member_id": family["head"], "purpose": "points", "evidence": "表-3"}
    elsewhere = make_world(as_role, make_user, login)
    stranger = elsewhere.caseworker
    assert stranger.get(f"{API}/households/{hid}/consents").status_code == 404
    assert stranger.post(f"{API}/households/{hid}/consents", json=body).status_code == 404
    assert stranger.post(f"{API}/consents/{made['id']}/withdraw", json={"reason": "x"}).status_code == 404
    for role in ("auditor", "admin"):
        client = as_role(role)
        assert client.get(f"{API}/households/{hid}/consents").status_code == 200
        assert client.post(f"{API}/households/{hid}/consents", json=body).status_code == 403
        assert client.post(f"{API}/consents/{made['id']}/withdraw", json={"reason": "x"}).status_code == 403
    world.partner("海淀区慈善总会", categories=["living"])
    partner = world.partner_clients["海淀区慈善总会"]
    assert partner.get(f"{API}/households/{hid}/consents").status_code == 403
    other = world.household(head="赵大勇")
    bad = record(world, hid, member_id=family["head"] + 10_000, purpose="sms")
    assert bad.status_code == 422
    assert bad.get_json()["error"]["code"] == "unknown_member"
    foreign = world.caseworker.get(f"{API}/households/{other}").get_json()["members"][0]["id"]
    assert record(world, hid, member_id=foreign, purpose="sms").status_code == 422
    nul = record(world, hid, member_id=family["head"], purpose="sms\x00")
    assert nul.status_code == 422
    assert set(nul.get_json()["error"]) >= {"code", "message", "details"}
