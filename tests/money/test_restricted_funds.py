"""Restricted funds (定向/专项): a deposit may carry the donor's restriction; the fund is
the sum of its parts; routing offers only the money that fits a need and says which part
it comes from; a pledge draws only from fitting parts, first-expiring first, then the
unrestricted part; paying a need from money restricted to another purpose is refused
with ``restricted_funds`` (in Chinese and English); disbursements, releases and reversals
stay in the parts the money came from; the ledger, the funds endpoint and the report show
each part."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from broker.money import fund_parts, ledger_queries, restrictions
from broker.platform import db, periods
from broker.registry import region_tree
from models import Account, AidRequest, FundRestriction, Offer, Partner
from models.base import utcnow
from tests.platform.test_skeleton import assert_error_shape
from tests.support.aid import YUAN, make_world, need

MEDICAL = {"categories": ["medical"], "programme": "大病救助专项基金"}


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def _deposit(world, partner_id: int, amount_fen: int, restriction: dict | None = None, **kw):
    body = {"amount_fen": amount_fen, "reference": f"DEP-{amount_fen}-{len(str(restriction))}", **kw}
    if restriction is not None:
        body["restriction"] = restriction
    return world.admin.post(f"/api/v1/partners/{partner_id}/deposits", json=body)


def _parts(world, partner_id: int) -> list[dict]:
    resp = world.admin.get(f"/api/v1/partners/{partner_id}/funds")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["parts"]


def _by_programme(parts: list[dict]) -> dict[str, dict]:
    return {p["programme"] or "unrestricted": p for p in parts}


def _federation(world, **kw) -> dict:
    p = world.partner("市慈善总会", categories=["medical", "living", "schooling"], **kw)
    assert _deposit(world, p["id"], 20_000 * YUAN, MEDICAL).status_code == 201
    return p


def test_a_restricted_deposit_is_a_part_of_the_fund_with_its_own_accounts(world):
    """The deposit names its restriction; the fund's total is the sum of its parts; a
    second deposit on the same terms adds to the same part; each part has its own fund
    and pledged accounts; the ledger entry names the part."""
    p = _federation(world)
    again = _deposit(world, p["id"], 5_000 * YUAN, {"programme": "大病救助专项基金", "categories": ["medical"]})
    assert again.status_code == 201, again.get_json()
    assert _deposit(world, p["id"], 50_000 * YUAN).status_code == 201
    s = db.session()
    (restriction,) = s.execute(select(FundRestriction).where(FundRestriction.partner_id == p["id"])).scalars()
    assert restriction.categories == ["medical"]
    keys = sorted(s.execute(select(Account.key).where(Account.partner_id == p["id"])).scalars())
    pid, rid = p["id"], restriction.id
    assert keys == sorted([f"fund:{pid}", f"pledged:{pid}", f"fund:{pid}:r{rid}", f"pledged:{pid}:r{rid}"])
    detail = world.admin.get(f"/api/v1/partners/{pid}").get_json()
    assert detail["available_fen"] == 75_000 * YUAN
    parts = _by_programme(_parts(world, pid))
    assert parts["大病救助专项基金"]["deposited_fen"] == 25_000 * YUAN
    assert parts["大病救助专项基金"]["categories"] == ["medical"]
    assert parts["unrestricted"]["available_fen"] == 50_000 * YUAN
    assert parts["unrestricted"]["restriction_id"] is None
    txn = again.get_json()
    (fund_leg,) = [e for e in txn["entries"] if e["account_kind"] == "fund"]
    assert fund_leg["restriction_id"] == rid
    assert "大病救助专项基金" in fund_leg["account_label"]["message"]


@pytest.mark.parametrize(
    ("restriction", "field"),
    [
        ({"categories": ["gambling"]}, "restriction"),
        ({"regions": ["NO-SUCH-GRID"]}, "restriction.regions"),
        ({"regions": ["*"]}, "restriction.regions"),
        ({"expires_on": "2020-01-01"}, "restriction.expires_on"),
        ({}, "restriction"),
        ({"programme": "专" * 121}, "restriction"),
        ({"programme": "a\x07b"}, "restriction"),
        ({"categories": "medical"}, "restriction"),
        ({"regions": ["x" * 41]}, "restriction"),
        ({"expires_on": "tomorrow"}, "restriction"),
        ({"colour": "red"}, "restriction"),
    ],
)
def test_a_restriction_is_validated(world, restriction, field):
    """Unknown categories or grids, ``*``, a last day in the past, an empty restriction,
    over-long or control-character text and unknown keys are a 422 naming the field;
    nothing is deposited."""
    p = world.partner("市慈善总会", categories=["medical"])
    resp = _deposit(world, p["id"], 100 * YUAN, restriction)
    body = assert_error_shape(resp, 422)
    assert any(k.startswith(field) for k in body["details"]), body
    assert _parts(world, p["id"]) == [] or all(x["deposited_fen"] == 0 for x in _parts(world, p["id"]))


def test_routing_offers_only_money_whose_restriction_fits(world, worker):
    """The federation's money is restricted to medical needs: a medical need is offered
    to it, with the part named in the reasons; a living need is not, with the code
    ``restricted_funds`` in routing's reasons."""
    p = _federation(world)
    h = world.household()
    out = world.assess(h, need("medical", "normal", 3000 * YUAN), need("living", "normal", 800 * YUAN))
    medical, living = (n["request_id"] for n in out["needs"])
    worker()
    (offer,) = world.request(medical)["offers"]
    assert offer["partner"]["id"] == p["id"]
    from_parts = [r for r in offer["reason_texts"] if r["code"] == "routing.from_parts"]
    assert len(from_parts) == 1
    assert "大病救助专项基金" in from_parts[0]["message"]
    unmatched = world.request(living)
    assert unmatched["offers"] == []
    assert unmatched["routing_state"] == "unmatched"
    excluded = unmatched["routing_reasons"]["excluded"]
    assert [(e["partner_id"], e["code"]) for e in excluded] == [(p["id"], "restricted_funds")]
    assert excluded[0]["params"]["restricted_fen"] == 20_000 * YUAN


def test_expired_money_and_other_grids_are_not_offered(world, worker):
    """A part past its last day, or restricted to another grid, is not offered; the
    unrestricted part is."""
    p = world.partner("市红十字会", categories=["medical"])
    other = world.admin.post(
        "/api/v1/grids",
        json={
            "code": "HD-OTHER-9",
            "name": "别的网格",
            "district": "海淀区",
            "street": "学院路街道",
            "community": "某社区",
        },
    )
    assert other.status_code == 201
    assert (
        _deposit(world, p["id"], 5000 * YUAN, {"categories": ["medical"], "regions": ["HD-OTHER-9"]}).status_code == 201
    )
    today = periods.to_local(utcnow()).date()  # the broker's day (Beijing), not this machine's
    assert _deposit(world, p["id"], 4000 * YUAN, {"expires_on": today.isoformat()}).status_code == 201
    s = db.session()
    short_lived = s.execute(
        select(FundRestriction).where(FundRestriction.partner_id == p["id"], FundRestriction.expires_on.is_not(None))
    ).scalar_one()
    short_lived.expires_on = today - timedelta(days=2)  # time passes
    db.commit()
    assert _deposit(world, p["id"], 300 * YUAN).status_code == 201
    h = world.household()
    rid = world.assess(h, need("medical", "normal", 1000 * YUAN))["needs"][0]["request_id"]
    worker()
    detail = world.request(rid)
    (offer,) = detail["offers"]
    assert offer["amount_fen"] == 300 * YUAN  # only the unrestricted ¥300 fits
    parts = _parts(world, p["id"])
    assert [(x["expired"], x["available_fen"]) for x in parts if x["expires_on"]] == [(True, 4000 * YUAN)], parts


def test_a_pledge_draws_first_expiring_first_then_unrestricted(world):
    """Two medical parts ending on different days and an unrestricted part: a pledge takes
    the part that ends first, then the next, then unrestricted money."""
    p = world.partner("市慈善总会", categories=["medical"])
    soon, later = date.today() + timedelta(days=30), date.today() + timedelta(days=300)
    assert (
        _deposit(world, p["id"], 1000 * YUAN, {"categories": ["medical"], "expires_on": later.isoformat()}).status_code
        == 201
    )
    assert (
        _deposit(world, p["id"], 500 * YUAN, {"categories": ["medical"], "expires_on": soon.isoformat()}).status_code
        == 201
    )
    assert _deposit(world, p["id"], 2000 * YUAN).status_code == 201
    h = world.household()
    rid = world.assess(h, need("medical", "normal", 1800 * YUAN))["needs"][0]["request_id"]
    s = db.session()
    partner, req = s.get(Partner, p["id"]), s.get(AidRequest, rid)
    offer = Offer(
        request_id=rid, partner_id=partner.id, status="received", amount_fen=1800 * YUAN, respond_by=req.created_at
    )
    s.add(offer)
    s.flush()
    fund_parts.pledge(s, partner, offer, req, 1800 * YUAN)
    db.commit()
    by_end = {x["expires_on"]: x for x in _parts(world, p["id"])}
    assert by_end[soon.isoformat()]["available_fen"] == 0
    assert by_end[later.isoformat()]["available_fen"] == 0
    assert by_end[None]["available_fen"] == 1700 * YUAN
    assert [x["expires_on"] for x in _parts(world, p["id"])] == [soon.isoformat(), later.isoformat(), None]
    # paying out takes the first to expire first; releasing gives back unrestricted first
    s = db.session()
    partner, req, offer = s.get(Partner, p["id"]), s.get(AidRequest, rid), s.get(Offer, offer.id)
    fund_parts.disburse(s, partner, offer, req, 600 * YUAN)
    fund_parts.release(s, partner, offer, req, 400 * YUAN)
    db.commit()
    by_end = {x["expires_on"]: x for x in _parts(world, p["id"])}
    assert (by_end[soon.isoformat()]["spent_fen"], by_end[later.isoformat()]["spent_fen"]) == (500 * YUAN, 100 * YUAN)
    assert by_end[None]["available_fen"] == 2000 * YUAN  # the 300 unrestricted + 100 of "later" went back
    assert by_end[later.isoformat()]["available_fen"] == 100 * YUAN
    assert by_end[later.isoformat()]["pledged_fen"] == 800 * YUAN
    assert ledger_queries.check(db.session()).ok


def test_accepting_a_need_with_money_restricted_elsewhere_is_refused_in_both_languages(world, worker):
    """A partner offered a living need (by hand here: routing would not) whose money is
    all restricted to medical needs gets a 409 ``restricted_funds`` saying so, in Chinese
    or English; nothing moves."""
    p = _federation(world)
    h = world.household()
    rid = world.assess(h, need("living", "normal", 800 * YUAN))["needs"][0]["request_id"]
    worker()
    s = db.session()
    offer = Offer(
        request_id=rid,
        partner_id=p["id"],
        status="received",
        amount_fen=800 * YUAN,
        respond_by=s.get(AidRequest, rid).created_at + timedelta(days=2),
    )
    s.add(offer)
    db.commit()
    client = world.partner_clients["市慈善总会"]
    zh = client.post(f"/api/v1/offers/{offer.id}/accept", json={}, headers={"Accept-Language": "zh-CN"})
    body = assert_error_shape(zh, 409, "restricted_funds")
    assert "限定" in body["message"] or "定向" in body["message"], body["message"]
    assert body["details"]["restricted_fen"] == 20_000 * YUAN
    assert body["details"]["available_fen"] == 0
    en = client.post(f"/api/v1/offers/{offer.id}/accept", json={}, headers={"Accept-Language": "en"})
    assert "restricted to other purposes" in assert_error_shape(en, 409, "restricted_funds")["message"]
    part = _by_programme(_parts(world, p["id"]))["大病救助专项基金"]
    assert (part["available_fen"], part["pledged_fen"]) == (20_000 * YUAN, 0)


def test_a_paid_medical_need_and_its_reversal_stay_in_the_restricted_part(world, worker, make_user, login):
    """The federation accepts and pays a medical need from its restricted part (not its
    unrestricted money); the reversal (红冲) of the finished offer gives the money back to
    that part; the report counts the net."""
    p = _federation(world)
    assert _deposit(world, p["id"], 1000 * YUAN).status_code == 201
    h = world.household()
    rid = world.assess(h, need("medical", "normal", 3000 * YUAN))["needs"][0]["request_id"]
    worker()
    (offer,) = world.request(rid)["offers"]
    client = world.partner_clients["市慈善总会"]
    assert client.post(f"/api/v1/offers/{offer['id']}/accept", json={}).status_code == 200
    paid = client.post(
        f"/api/v1/offers/{offer['id']}/disbursements", json={"amount_fen": 3000 * YUAN, "reference": "PAY-R1"}
    )
    assert paid.status_code == 201, paid.get_json()
    parts = _by_programme(_parts(world, p["id"]))
    assert parts["大病救助专项基金"]["spent_fen"] == 3000 * YUAN
    assert parts["unrestricted"]["available_fen"] == 1000 * YUAN
    proposed = client.post(f"/api/v1/disbursements/{paid.get_json()['id']}/reversal", json={"reason": "金额录错"})
    auditor = login(make_user("auditor"))
    assert auditor.post(f"/api/v1/reversals/{proposed.get_json()['id']}/approve", json={}).status_code == 200
    parts = _by_programme(_parts(world, p["id"]))
    # the offer was finished: the money went back to the very part it came from
    restricted = parts["大病救助专项基金"]
    assert (restricted["spent_fen"], restricted["pledged_fen"], restricted["available_fen"]) == (0, 0, 20_000 * YUAN)
    assert parts["unrestricted"]["available_fen"] == 1000 * YUAN
    report = auditor.get("/api/v1/reports/fund-restrictions?restricted_only=true").get_json()
    mine = [x for x in report["parts"] if x["partner_id"] == p["id"]]
    assert [(x["programme"], x["deposited_fen"], x["spent_fen"]) for x in mine] == [
        ("大病救助专项基金", 20_000 * YUAN, 0)
    ]
    assert ledger_queries.check(db.session()).ok


def test_funds_and_the_report_are_for_their_readers_only(world, as_role):
    """GET /partners/{id}/funds: admin, auditor and the partner itself; another partner
    gets a 404, a caseworker a 403. The report: auditor and admin (JSON and XLSX), 403 to
    others; the XLSX names the part in Chinese."""
    p = _federation(world)
    other = world.partner("别家基金会", categories=["living"])
    assert world.partner_clients["市慈善总会"].get(f"/api/v1/partners/{p['id']}/funds").status_code == 200
    assert as_role("auditor").get(f"/api/v1/partners/{p['id']}/funds").status_code == 200
    assert_error_shape(world.partner_clients["别家基金会"].get(f"/api/v1/partners/{p['id']}/funds"), 404)
    assert_error_shape(world.caseworker.get(f"/api/v1/partners/{p['id']}/funds"), 403)
    assert_error_shape(world.partner_clients["别家基金会"].get("/api/v1/reports/fund-restrictions"), 403)
    assert other["id"]
    auditor = as_role("auditor")
    report = auditor.get("/api/v1/reports/fund-restrictions").get_json()
    assert report["totals"]["deposited_fen"] >= 20_000 * YUAN
    xlsx = auditor.get("/api/v1/reports/fund-restrictions?format=xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(BytesIO(xlsx.data)).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert any("大病救助专项基金" in c and "医疗" in c for c in cells), cells[:20]
    assert_error_shape(auditor.get("/api/v1/reports/fund-restrictions?format=pdf"), 422)


def _tree() -> region_tree.Tree:
    """A district with two streets, a community under each and a grid under each community."""
    tree = region_tree.Tree()
    nodes = [
        region_tree.Node(1, "HD", "海淀区", "district", None),
        region_tree.Node(2, "HD-A", "甲街道", "street", 1),
        region_tree.Node(3, "HD-A-1", "甲社区", "community", 2),
        region_tree.Node(4, "HD-B", "乙街道", "street", 1),
        region_tree.Node(5, "HD-B-1", "乙社区", "community", 4),
    ]
    for node in nodes:
        tree.nodes[node.id] = node
        tree.by_code[node.code] = node
        tree.children.setdefault(node.parent_id, []).append(node)
    for gid, code, node_id in ((10, "HD-1", 3), (11, "HD-2", 5)):
        tree.grid_node[gid], tree.grid_ids[code] = node_id, gid
        tree.grid_names[gid] = (code, code, "海淀区")
    return tree


def test_fits_uses_the_routing_region_rule():
    """A restriction to grids matches as routing matches a partner's served regions: through the tree."""
    tree = _tree()
    r = FundRestriction(categories=[], regions=["HD-1"], programme="", expires_on=None)
    today = date(2026, 12, 3)
    assert restrictions.fits(r, "living", "HD-1", today, tree)
    assert not restrictions.fits(r, "living", "HD-2", today, tree)
    r.expires_on = date(2026, 12, 3)
    assert restrictions.fits(r, "living", "HD-1", today, tree)
    assert not restrictions.fits(r, "living", "HD-1", today + timedelta(days=1), tree)


def test_a_restriction_to_a_street_or_district_covers_the_grids_below_it():
    """A restriction may name any node of the tree; it covers every grid below that node, none beside it."""
    tree = _tree()
    today = date(2026, 12, 3)
    street = FundRestriction(categories=[], regions=["HD-A"], programme="", expires_on=None)
    assert restrictions.fits(street, "living", "HD-1", today, tree)
    assert not restrictions.fits(street, "living", "HD-2", today, tree)
    assert not restrictions.fits(street, "living", "NOWHERE", today, tree)
    district = FundRestriction(categories=[], regions=["HD"], programme="", expires_on=None)
    assert restrictions.fits(district, "living", "HD-1", today, tree)
    assert restrictions.fits(district, "living", "HD-2", today, tree)
