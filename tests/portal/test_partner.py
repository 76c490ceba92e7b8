"""The partner's pages: the inbox, one offer (what is shown and what is withheld), the
answers — accept with an amount typed in yuan, decline with a reason, disbursements with
evidence, complete — and the fund. Every action goes through the portal's forms and is
checked against the API's view of the same request."""

from __future__ import annotations

import io
import re

from broker.platform import db
from models import Disbursement, Offer
from tests.portal.conftest import ID_NUMBER, another_id_number, build_loop


def _offer(offer_id: int) -> Offer:
    db.session.remove()
    return db.session().get(Offer, offer_id)


def _act(portal, offer_id: int, action: str, data: dict):
    """Open the offer's page, then post one of its forms (accept, reject, complete …)."""
    return portal.submit(f"/partner/offers/{offer_id}/{action}", data, page=f"/partner/offers/{offer_id}")


def test_inbox_lists_the_offers_most_urgent_first_with_counts(portal, loop):
    """The inbox shows each offer with its category, amount and urgency in Chinese, the
    urgent medical need before the normal counselling one, and counts per status."""
    portal.login(loop.partner)
    html = portal.text("/partner/")
    assert "医疗援助" in html
    assert "心理慰藉" in html
    assert html.index("医疗援助") < html.index("心理慰藉")
    assert "¥1,234.50" in html
    assert "待答复 <strong>2</strong>" in html
    filtered = portal.text("/partner/?category=counselling")
    assert "心理慰藉" in filtered
    assert "¥1,234.50" not in filtered


def test_offer_page_withholds_identity_numbers_and_names(portal, loop):
    """The partner sees category, amount, urgency, community and description, but never
    the ID number, and the head's name only masked when the family did not consent."""
    portal.login(loop.partner)
    html = portal.text(f"/partner/offers/{loop.offer_ids[0]}")
    assert "¥1,234.50" in html
    assert "科源社区" in html
    assert "白血病" in html
    assert ID_NUMBER not in html
    assert "张建国" not in html
    assert "张**" in html


def test_offer_page_shows_names_when_the_family_consented(portal, as_role, make_user, login, worker):
    """With the household's consent, the head's full name reaches the partner (still no ID number)."""
    consenting = build_loop(as_role, make_user, login, worker, consent=True)
    portal.login(consenting.partner)
    html = portal.text(f"/partner/offers/{consenting.offer_ids[0]}")
    assert "张建国" in html
    assert ID_NUMBER not in html


def test_another_partners_offer_is_not_found(new_portal, as_role, make_user, login, worker):
    """A partner typing another partner's offer address gets 404, and cannot answer it either."""
    first = build_loop(as_role, make_user, login, worker)
    second = build_loop(as_role, make_user, login, worker, id_number=another_id_number(7))
    intruder = new_portal()
    intruder.login(second.partner)
    resp = intruder.get(f"/partner/offers/{first.offer_ids[0]}")
    assert resp.status_code == 404
    assert "未找到" in resp.get_data(as_text=True)
    resp = intruder.post(f"/partner/offers/{first.offer_ids[0]}/accept", {"amount": ""})
    assert resp.status_code == 404
    assert _offer(first.offer_ids[0]).status == "received"


def test_accept_with_yuan_typed_with_grouping(portal, loop):
    """Accepting "1,234.50" yuan pledges exactly 123450 fen from the fund."""
    portal.login(loop.partner)
    resp = _act(portal, loop.offer_ids[0], "accept", {"amount": "1,234.50"})
    assert resp.status_code == 302
    offer = _offer(loop.offer_ids[0])
    assert offer.status == "accepted"
    assert offer.accepted_fen == 123450
    assert "您已接受该邀约" in portal.text(f"/partner/offers/{loop.offer_ids[0]}")


def test_accept_with_three_decimals_is_refused(portal, loop):
    """ "12.345" yuan is refused on the form (which fen?), and nothing changes."""
    portal.login(loop.partner)
    resp = _act(portal, loop.offer_ids[0], "accept", {"amount": "12.345"})
    assert resp.status_code == 400
    assert "最多保留两位小数" in resp.get_data(as_text=True)
    assert _offer(loop.offer_ids[0]).status == "received"


def test_accept_more_than_offered_is_explained(portal, loop):
    """An amount above the offer is the domain's refusal, shown on the page, not a 500."""
    portal.login(loop.partner)
    resp = _act(portal, loop.offer_ids[0], "accept", {"amount": "99999"})
    assert resp.status_code == 422
    # in yuan, as the form asks, not in the fen the domain checks
    assert "未通过：须在 ¥0.01 到 ¥1,234.50 之间" in resp.get_data(as_text=True)
    assert _offer(loop.offer_ids[0]).status == "received"


def test_decline_needs_a_reason(portal, loop, worker):
    """Declining without a reason is refused; with one, the offer is declined and the request goes back to routing."""
    portal.login(loop.partner)
    resp = _act(portal, loop.offer_ids[1], "reject", {"reason": ""})
    assert resp.status_code == 400
    resp = portal.post(f"/partner/offers/{loop.offer_ids[1]}/reject", {"reason": "本月心理咨询师已排满"})
    assert resp.status_code == 302
    offer = _offer(loop.offer_ids[1])
    assert offer.status == "rejected"
    assert offer.status_reason == "本月心理咨询师已排满"
    worker()


def test_disbursement_with_evidence_then_complete(portal, loop):
    """A partial disbursement with a receipt puts the offer in progress; completing it
    releases the rest of the pledge back to the fund."""
    portal.login(loop.partner)
    _act(portal, loop.offer_ids[0], "accept", {"amount": ""})
    portal.get(f"/partner/offers/{loop.offer_ids[0]}")
    resp = portal.post(
        f"/partner/offers/{loop.offer_ids[0]}/disbursements",
        {
            "amount": "1,000.00",
            "kind": "cash",
            "reference": "ZZ-2024-0001",
            "evidence": (io.BytesIO(b"%PDF-1.4 receipt"), "receipt.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    offer = _offer(loop.offer_ids[0])
    assert offer.status == "in-progress"
    assert offer.disbursed_fen == 100000
    row = db.session().query(Disbursement).filter_by(offer_id=offer.id).one()
    assert row.evidence["filename"] == "receipt.pdf"
    html = portal.text(f"/partner/offers/{loop.offer_ids[0]}")
    assert "ZZ-2024-0001" in html
    assert "receipt.pdf" in html
    resp = portal.post(f"/partner/offers/{loop.offer_ids[0]}/complete", {"note": "剩余款项由医保结算"})
    assert resp.status_code == 302
    assert _offer(loop.offer_ids[0]).status == "completed"


def test_disbursement_of_more_than_remains_is_explained(portal, loop):
    """Paying out more than was accepted is refused with the domain's reason on the form."""
    portal.login(loop.partner)
    _act(portal, loop.offer_ids[0], "accept", {"amount": "100"})
    resp = _act(portal, loop.offer_ids[0], "disbursements", {"amount": "200", "kind": "cash"})
    assert resp.status_code == 422
    assert _offer(loop.offer_ids[0]).disbursed_fen == 0


def test_completing_before_paying_is_a_conflict_message(portal, loop):
    """Completing a money offer with nothing paid out is refused with a message, not an error page."""
    portal.login(loop.partner)
    _act(portal, loop.offer_ids[0], "accept", {"amount": ""})
    resp = _act(portal, loop.offer_ids[0], "complete", {"note": ""})
    assert resp.status_code == 409
    assert 'class="flash flash-error"' in resp.get_data(as_text=True)
    assert _offer(loop.offer_ids[0]).status == "accepted"


def test_answering_twice_says_where_it_stands(portal, loop):
    """Accepting an offer already declined is an illegal move: the page names its current status."""
    portal.login(loop.partner)
    _act(portal, loop.offer_ids[1], "reject", {"reason": "不在服务范围"})
    resp = _act(portal, loop.offer_ids[1], "accept", {"amount": ""})
    assert resp.status_code == 409
    assert "已拒绝" in resp.get_data(as_text=True)


def test_fund_page_shows_balance_pledges_and_history(portal, loop):
    """The fund page shows what is available, what is pledged, and each movement with running balances."""
    portal.login(loop.partner)
    _act(portal, loop.offer_ids[0], "accept", {"amount": ""})
    html = portal.text("/partner/fund")
    assert "¥18,765.50" in html  # 20,000.00 deposited − 1,234.50 pledged
    assert "¥1,234.50" in html
    assert "入账" in html
    assert "承诺" in html
    assert re.search(r"¥20,000\.00", html)


def test_caseworker_cannot_open_partner_pages(portal, loop):
    """The partner pages are the partner's: a caseworker is refused."""
    portal.login(loop.caseworker)
    assert portal.get("/partner/").status_code == 403
    assert portal.get(f"/partner/offers/{loop.offer_ids[0]}").status_code == 403
