"""A form sent twice does its work once. Every portal form that creates something carries
a one-time key (a hidden field made when the page was shown); the same form sent again
with it — a double tap on a slow phone, Back and "send again" — lands where the first
did, with the same message. A voucher number recorded twice by hand is refused, naming
the first disbursement; the same need typed in again for a family asks to confirm."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from broker.platform import db
from models import AidRequest, Assessment, Disbursement, IdempotencyKey, Visit
from tests.support.aid import need

_FORM = re.compile(r'<form[^>]*action="(?P<action>[^"]+)"[^>]*>(?P<body>.*?)</form>', re.S)
_KEY = re.compile(r'name="once_key"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="once_key"')


def once_key(html: str, action: str) -> str:
    """The one-time key of the form posting to ``action``, as the page carried it."""
    for form in _FORM.finditer(html):
        if form.group("action") == action:
            found = _KEY.search(form.group("body"))
            assert found, f"the form posting to {action} carries no one-time key"
            return found.group(1) or found.group(2)
    raise AssertionError(f"no form posts to {action}")


def flashes(html: str) -> str:
    """The page's messages (the flash box), as shown."""
    assert 'class="flashes"' in html, "the page shows no message"
    return html.split('class="flashes"', 1)[1].split("</div>", 1)[0]


def _count(model, **where) -> int:
    db.session.remove()
    stmt = select(func.count()).select_from(model)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return db.session().execute(stmt).scalar_one()


def _accepted(portal, loop, offer_index: int = 0) -> str:
    """Sign the partner in, accept the offer, and return the offer page."""
    portal.login(loop.partner)
    offer_id = loop.offer_ids[offer_index]
    page = portal.text(f"/partner/offers/{offer_id}")
    accept = f"/partner/offers/{offer_id}/accept"
    assert portal.post(accept, {"amount": "", "once_key": once_key(page, accept)}).status_code == 302
    return portal.text(f"/partner/offers/{offer_id}")


def test_every_creating_form_carries_a_one_time_key(portal, loop):
    """Accept, decline, disbursement, complete, visit and assessment forms each carry a
    key, fresh on every showing."""
    portal.login(loop.partner)
    offer_id = loop.offer_ids[0]
    first, again = portal.text(f"/partner/offers/{offer_id}"), portal.text(f"/partner/offers/{offer_id}")
    for action in ("accept", "reject"):
        path = f"/partner/offers/{offer_id}/{action}"
        assert once_key(first, path) != once_key(again, path)
    page = _accepted(portal, loop)
    for action in ("disbursements", "complete"):
        assert once_key(page, f"/partner/offers/{offer_id}/{action}")
    portal.login(loop.caseworker)
    for form in ("visit", "assessment"):
        path = f"/caseworker/households/{loop.household_id}/{form}"
        assert once_key(portal.text(path), path)


def test_a_disbursement_form_sent_twice_records_one_disbursement(portal, loop):
    """The same disbursement form (with its receipt) posted twice: one disbursement of
    ¥1,000, one ledger movement; the second post lands on the same page with the same
    message, and the key is kept with its answer."""
    page = _accepted(portal, loop)
    action = f"/partner/offers/{loop.offer_ids[0]}/disbursements"
    key = once_key(page, action)

    def send():
        return portal.post(
            action,
            {
                "amount": "1,000.00",
                "reference": "ZZ-2024-0001",
                "once_key": key,
                "evidence": (io.BytesIO(b"%PDF-1.4 receipt"), "receipt.pdf", "application/pdf"),
            },
            content_type="multipart/form-data",
        )

    first = send()
    assert first.status_code == 302, first.get_data(as_text=True)
    first_page = portal.text(first.headers["Location"])
    second = send()
    assert second.status_code == 302, second.get_data(as_text=True)
    assert second.headers["Location"] == first.headers["Location"]
    second_page = portal.text(second.headers["Location"])
    assert "¥1,000.00" in flashes(first_page)
    assert flashes(second_page) == flashes(first_page)
    assert _count(Disbursement) == 1
    db.session.remove()
    stored = db.session().execute(select(IdempotencyKey).where(IdempotencyKey.key == key)).scalar_one()
    assert stored.response["location"].endswith(f"/partner/offers/{loop.offer_ids[0]}")


def test_the_same_key_with_other_data_does_nothing_and_says_so(portal, loop):
    """A form shown once and sent again with a different amount (Back, edit, send) is not
    recorded a second time: the partner lands on the first result with a notice."""
    page = _accepted(portal, loop)
    action = f"/partner/offers/{loop.offer_ids[0]}/disbursements"
    key = once_key(page, action)
    assert portal.post(action, {"amount": "100", "reference": "A-1", "once_key": key}).status_code == 302
    again = portal.post(action, {"amount": "200", "reference": "A-2", "once_key": key})
    assert again.status_code == 302
    text = portal.text(again.headers["Location"])
    assert "该表单已经提交过" in text
    assert _count(Disbursement) == 1


def test_a_refused_form_can_be_corrected_and_sent_with_its_key(portal, loop):
    """A form refused for its content keeps nothing: corrected, the same key goes through."""
    page = _accepted(portal, loop)
    action = f"/partner/offers/{loop.offer_ids[0]}/disbursements"
    key = once_key(page, action)
    refused = portal.post(action, {"amount": "99,999", "once_key": key})
    assert refused.status_code == 422
    assert once_key(refused.get_data(as_text=True), action) == key
    assert portal.post(action, {"amount": "100", "once_key": key}).status_code == 302
    assert _count(Disbursement) == 1


def test_a_voucher_recorded_twice_by_hand_is_refused_naming_the_first(portal, loop):
    """Two separate forms with the same voucher number: the second is a 409 whose message
    names the disbursement that already carries it; nothing more is paid."""
    page = _accepted(portal, loop)
    action = f"/partner/offers/{loop.offer_ids[0]}/disbursements"
    assert portal.post(action, {"amount": "100", "reference": "YH-7", "once_key": once_key(page, action)}).status_code
    page = portal.text(f"/partner/offers/{loop.offer_ids[0]}")
    resp = portal.post(action, {"amount": "100", "reference": "YH-7", "once_key": once_key(page, action)})
    assert resp.status_code == 409
    db.session.remove()
    first = db.session().execute(select(Disbursement)).scalar_one()
    text = resp.get_data(as_text=True)
    assert f"凭证号“YH-7”已登记在第 {first.id} 号发放记录" in text
    assert _count(Disbursement) == 1


def test_a_visit_sent_twice_is_recorded_once(portal, loop):
    """The visit form posted twice with its key: one visit."""
    portal.login(loop.caseworker)
    path = f"/caseworker/households/{loop.household_id}/visit"
    data = {"channel": "routine", "visited_at": "", "findings": "复访", "once_key": once_key(portal.text(path), path)}
    assert portal.post(path, data).status_code == 302
    assert portal.post(path, data).status_code == 302
    assert _count(Visit, household_id=loop.household_id) == 1


NEEDS = {
    "summary": "复访",
    "needs-0-category": "schooling",
    "needs-0-urgency": "high",
    "needs-0-amount": "3,000.00",
    "needs-0-description": "两个孩子的学杂费",
    "needs-1-category": "",
    "needs-1-urgency": "normal",
    "needs-2-category": "",
    "needs-2-urgency": "normal",
}


def test_an_assessment_sent_again_after_going_back_creates_nothing_new(portal, loop, worker):
    """Save, go Back, send again: the same key replays the first result — one assessment,
    one request, routed once — and the caseworker sees the same message."""
    portal.login(loop.caseworker)
    path = f"/caseworker/households/{loop.household_id}/assessment"
    data = {**NEEDS, "once_key": once_key(portal.text(path), path)}
    before = _count(AidRequest, household_id=loop.household_id)
    first = portal.post(path, data)
    assert first.status_code == 302
    said = flashes(portal.text(first.headers["Location"]))
    assert "评估已保存" in said
    second = portal.post(path, data)
    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert flashes(portal.text(second.headers["Location"])) == said
    assert _count(AidRequest, household_id=loop.household_id) == before + 1
    assert _count(Assessment, household_id=loop.household_id) == 2


def test_the_same_need_typed_in_again_asks_to_confirm(portal, loop):
    """A fresh form with a need identical to one just recorded (category, amount,
    description) shows the earlier request and records nothing; confirming records it."""
    portal.login(loop.caseworker)
    path = f"/caseworker/households/{loop.household_id}/assessment"
    assert portal.post(path, {**NEEDS, "once_key": once_key(portal.text(path), path)}).status_code == 302
    before = _count(AidRequest, household_id=loop.household_id)
    key = once_key(portal.text(path), path)
    resp = portal.post(path, {**NEEDS, "once_key": key})
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    db.session.remove()
    earlier = db.session().execute(select(func.max(AidRequest.id))).scalar_one()
    assert "这项需求似乎已经登记过" in html
    assert f"#request-{earlier}" in html
    assert 'name="confirm_duplicate"' in html
    assert once_key(html, path) == key
    assert _count(AidRequest, household_id=loop.household_id) == before
    confirmed = portal.post(path, {**NEEDS, "once_key": key, "confirm_duplicate": "y"})
    assert confirmed.status_code == 302
    assert _count(AidRequest, household_id=loop.household_id) == before + 1


def test_goods_rows_with_a_missing_unit_are_explained(portal, loop, worker):
    """An in-kind offer's form: a row without its unit is refused on that row, nothing is
    recorded; filled in, the goods are recorded with no money."""
    world = loop.world
    shop = world.partner("爱心超市", kind="charity", categories=["in_kind"])
    world.assess(loop.household_id, need("in_kind", "normal", None, "冬季被褥"))
    worker()
    (offer,) = world.offers_of("爱心超市")
    db.session.remove()
    portal.login(loop.world.make_user("partner", partner_id=shop["id"]))
    page = portal.text(f"/partner/offers/{offer['id']}")
    accept = f"/partner/offers/{offer['id']}/accept"
    assert portal.post(accept, {"once_key": once_key(page, accept)}).status_code == 302
    page = portal.text(f"/partner/offers/{offer['id']}")
    assert "金额（元）" not in page
    action = f"/partner/offers/{offer['id']}/disbursements"
    key = once_key(page, action)
    rows = {"items-0-name": "棉被", "items-0-quantity": "2", "items-1-name": "", "items-1-quantity": ""}
    refused = portal.post(action, {**rows, "once_key": key})
    assert refused.status_code == 400
    assert "此项必填" in refused.get_data(as_text=True)
    assert portal.post(action, {**rows, "items-0-unit": "床", "once_key": key}).status_code == 302
    db.session.remove()
    row = db.session().execute(select(Disbursement)).scalar_one()
    assert (row.kind, row.amount_fen, row.items) == ("in_kind", 0, [{"name": "棉被", "quantity": 2, "unit": "床"}])
