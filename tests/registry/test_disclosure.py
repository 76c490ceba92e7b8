"""One function decides what each recipient sees of a family: partners get the community,
the household's name only with consent, and redacted free text; public notices always a
masked name; volunteers the contact details only with their own consent; caseworkers and
auditors everything, ID numbers masked. Consent is asked at the moment of disclosure."""

from __future__ import annotations

import pytest

from broker.platform import db
from broker.registry import consent_records, consents, disclosure
from models import Consent, Household
from models.base import utcnow
from tests.support.aid import make_world

DESCRIPTION = "张小明白血病化疗，父亲张建国电话 139-1234-5678，住中关村东路18号院"


@pytest.fixture
def family(as_role, make_user, login) -> int:
    world = make_world(as_role, make_user, login)
    resp = world.caseworker.post(
        "/api/v1/households",
        json={
            "grid": world.grid,
            "address": "海淀区中关村东路18号院3号楼",
            "head_name": "张建国",
            "phone": "13912345678",
            "monthly_income_fen": 240000,
            "consent_to_share": False,
            "members": [
                {"name": "张建国", "relation": "head", "birth_date": "1979-04-12"},
                {"name": "张小明", "relation": "child", "birth_date": "2014-09-01", "conditions": ["leukaemia"]},
            ],
        },
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def _consent(household_id: int, agreed: bool) -> None:
    """The head's consent to share recorded, or withdrawn, as the registry records it."""
    session = db.session()
    consent_records.follow_flag(session, session.get(Household, household_id), agreed, by_id=None, by="test")
    db.commit()


@pytest.mark.parametrize("recipient", disclosure.PARTNERS)
def test_partners_get_only_what_an_offer_needs(family, recipient):
    """No address, phone, member names or income; a masked name; the text redacted."""
    seen = disclosure.disclose(db.session(), family, recipient)
    assert set(seen.fields) == {"community", "household_name", "household_label"}
    assert seen.fields["household_label"] == "张** household"
    text = seen.text(DESCRIPTION)
    for secret in ("张小明", "张建国", "139-1234-5678", "中关村东路18号"):
        assert secret not in text
    assert "白血病化疗" in text


def test_consent_is_asked_when_the_data_leaves(family):
    """The same household, consent given then withdrawn: the name follows at once."""
    _consent(family, True)
    assert disclosure.disclose(db.session(), family, disclosure.PARTNER_WEBHOOK).fields["household_label"] == (
        "张建国 household"
    )
    _consent(family, False)
    assert disclosure.disclose(db.session(), family, disclosure.PARTNER_WEBHOOK).fields["household_label"] == (
        "张** household"
    )


def test_a_public_notice_never_names_the_family_and_volunteers_need_their_own_consent(family):
    """公示 masks the name even with consent; a volunteer gets address and phone only with
    the family's consent to be contacted by volunteers (consent to share is not enough)."""
    _consent(family, True)
    notice = disclosure.disclose(db.session(), family, disclosure.PUBLIC_NOTICE)
    assert notice.fields["household_label"] == "张** household"
    assert "phone" not in disclosure.disclose(db.session(), family, disclosure.VOLUNTEER).fields
    session = db.session()
    head = consents.head_member(session, family)
    agreed = Consent(household_id=family, member_id=head.id, purpose=consents.VOLUNTEER_CONTACT, evidence="同意书")
    session.add(agreed)
    db.commit()
    volunteer = disclosure.disclose(db.session(), family, disclosure.VOLUNTEER)
    assert volunteer.fields["phone"] == "13912345678"
    assert volunteer.fields["address"] == "海淀区中关村东路18号院3号楼"
    agreed = db.session().get(Consent, agreed.id)
    agreed.withdrawn_at = utcnow()
    db.commit()
    assert "phone" not in disclosure.disclose(db.session(), family, disclosure.VOLUNTEER).fields


@pytest.mark.parametrize("recipient", [disclosure.CASEWORKER, disclosure.AUDITOR])
def test_staff_see_the_whole_record_with_id_numbers_masked_in_text(family, recipient):
    """Caseworkers and auditors: names, contact, income; free text as typed but ID numbers."""
    seen = disclosure.disclose(db.session(), family, recipient)
    assert seen.fields["member_names"] == ["张建国", "张小明"]
    assert seen.fields["phone"] == "13912345678"
    assert seen.text(DESCRIPTION + " 110108198503121233") == DESCRIPTION + " [ID number removed]"


def test_every_recipient_has_a_row_for_every_field():
    """The matrix is complete: no recipient is left to a default."""
    for recipient in disclosure.RECIPIENTS:
        assert set(disclosure.MATRIX[recipient]) == set(disclosure.FIELDS)
    with pytest.raises(ValueError, match="unknown recipient"):
        disclosure.disclose(db.session(), 1, "newspaper")
