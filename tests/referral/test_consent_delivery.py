"""Consent is asked when an offer leaves, not when it was made: a real RQ worker
delivers offers to a partner's webhook receiver; the family's name goes with a
household that agrees to share it, and an offer made while the family agreed but
delivered after it withdrew goes without it — the request's timeline says so. A
consent narrowed to charities names the family to a charity only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.aid import YUAN, fire_scheduled, make_world, need
from tests.support.partner_server import PartnerServer

API = "/api/v1"


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


@pytest.fixture
def receiver() -> Iterator[PartnerServer]:
    """The partner's system: the first webhook is answered 503 (retried later), then 204."""
    with PartnerServer(statuses=[503]) as server:
        yield server


def webhook_partner(world, server: PartnerServer, kind: str = "charity") -> dict:
    return world.partner(
        f"{kind}-伙伴",
        kind=kind,
        adapter="webhook",
        adapter_config={"url": server.url, "secret": server.secret},
        categories=["medical"],
        fund_fen=10_000 * YUAN,
    )


def share_consent(world, household_id: int) -> int:
    listed = world.caseworker.get(f"{API}/households/{household_id}/consents").get_json()
    return next(c["id"] for c in listed if c["purpose"] == "share_with_partners" and c["current"])


def test_a_withdrawn_consent_stops_the_name_of_an_offer_not_yet_delivered(world, receiver, worker):
    """The offer is made while the family agrees; its first delivery fails; the family
    withdraws; the retry delivers the need without the head's name, and the request's
    timeline notes that it went without names because consent was withdrawn."""
    webhook_partner(world, receiver)
    hid = world.household(head="王建国", consent=True)
    rid = world.assess(hid, need("medical", "high", 800 * YUAN, "化疗费用缺口"))["needs"][0]["request_id"]
    worker()
    assert receiver.calls == 1
    assert receiver.events == []  # answered 503: nothing has left yet
    made = world.request(rid)["timeline"]
    assert next(e for e in made if e["event"] == "offer.created")["details"]["names_shared"] is True

    withdrawn = world.caseworker.post(
        f"{API}/consents/{share_consent(world, hid)}/withdraw", json={"reason": "家属不同意再向外提供姓名"}
    )
    assert withdrawn.status_code == 200, withdrawn.get_json()
    assert fire_scheduled("deliver_offer") == 1
    worker()

    assert len(receiver.events) == 1
    text = str(receiver.events[0])
    assert "王建国" not in text
    assert "Wang Jianguo" not in text
    assert "化疗费用缺口" in text  # the need itself still reaches the partner
    offer = world.request(rid)["offers"][0]
    assert offer["status"] == "received"
    assert offer["status_reason"] == "names_withheld_consent_withdrawn"
    note = next(e for e in world.request(rid)["timeline"] if e["event"] == "offer.delivered")
    assert note["details"]["status_reason"] == "names_withheld_consent_withdrawn"


def test_consent_names_the_family_only_to_the_kinds_it_covers(world, receiver, worker, as_role):
    """A consent to share with charities only: a charity's webhook carries the head's
    name, and a company reading the same family's offer in its inbox sees it masked."""
    webhook_partner(world, receiver, kind="charity")
    hid = world.household(head="王建国")
    head = world.caseworker.get(f"{API}/households/{hid}").get_json()["members"][0]["id"]
    made = world.caseworker.post(
        f"{API}/households/{hid}/consents",
        json={"member_id": head, "purpose": "share_with_partners", "partner_kinds": ["charity"], "evidence": "表-9"},
    )
    assert made.status_code == 201, made.get_json()
    world.assess(hid, need("medical", "high", 500 * YUAN, "住院押金"))
    worker()
    fire_scheduled("deliver_offer")
    worker()
    assert len(receiver.events) == 1
    assert "王建国" in str(receiver.events[0])

    world.partner("爱心企业", kind="company", categories=["living"], fund_fen=1000 * YUAN)
    world.assess(hid, need("living", "normal", 200 * YUAN, "生活费"))
    worker()
    [offer] = world.offers_of("爱心企业")
    assert "王建国" not in str(offer)
    assert offer["household"].startswith("王*")
