"""The region tree end to end over HTTP: a partner serving a street is asked for a
grid's request below it and not for one outside, and says so by the node's name; an
auditor scoped to a street sees only its subtree in lists, reports, the ledger and the
exports (404 on an object outside); roll-up totals are the sums of their children; a
move that would make a cycle is refused; a grid's county follows the tree."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from broker.community import figures
from broker.people import users
from broker.platform import db
from broker.registry import region_tree
from models import AuditDetail, AuditEvent, Grid, Region
from tests.conftest import PASSWORD, ApiClient, unique
from tests.support.aid import YUAN, World, need

API = "/api/v1"
NODES = [
    {"code": "WC", "name": "武昌区", "kind": "district"},
    {"code": "WC-ZN", "name": "中南路街道", "kind": "street", "parent": "WC"},
    {"code": "WC-ZN-ZN", "name": "中南社区", "kind": "community", "parent": "WC-ZN"},
    {"code": "WC-ZN-SZ", "name": "石洞社区", "kind": "community", "parent": "WC-ZN"},
    {"code": "WC-SY", "name": "首义路街道", "kind": "street", "parent": "WC"},
    {"code": "WC-SY-SY", "name": "首义社区", "kind": "community", "parent": "WC-SY"},
]


@dataclass
class Tree:
    admin: ApiClient
    inside: World  # a grid under 中南社区 (中南路街道)
    beside: World  # a grid under 石洞社区 (中南路街道 too)
    outside: World  # a grid under 首义社区 (首义路街道)


def _grid(admin: ApiClient, region: str) -> str:
    code = unique("WC-G-")
    body = {"code": code, "name": "网格", "district": "-", "street": "-", "community": "-", "region": region}
    resp = admin.post(f"{API}/grids", json=body)
    assert resp.status_code == 201, resp.get_json()
    return code


@pytest.fixture
def tree(as_role, make_user, login) -> Tree:
    admin = as_role("admin")
    for node in NODES:
        resp = admin.post(f"{API}/regions", json=node)
        assert resp.status_code == 201, resp.get_json()
    grids = [_grid(admin, r) for r in ("WC-ZN-ZN", "WC-ZN-SZ", "WC-SY-SY")]
    caseworker = login(make_user("caseworker", grids=tuple(grids)))
    worlds = [World(admin=admin, caseworker=caseworker, grid=g, make_user=make_user, login=login) for g in grids]
    return Tree(admin, *worlds)


def scoped_auditor(login, region: str) -> ApiClient:
    name = unique("auditor-")
    users.create_user(db.session(), username=name, password=PASSWORD, role="auditor", region=region)
    db.commit()
    return login(name)


def test_a_grid_hangs_in_its_place_and_takes_its_names(tree):
    """A grid placed under a community reads its district, street and community from the
    tree; the tree answers a grid's place and which nodes cover it."""
    grid = tree.admin.get(f"{API}/grids/{tree.inside.grid}").get_json()
    assert (grid["district"], grid["street"], grid["community"]) == ("武昌区", "中南路街道", "中南社区")
    t = region_tree.load(db.session())
    gid = t.grid_ids[tree.inside.grid]
    assert [n.code for n in t.place_of(gid)] == ["WC", "WC-ZN", "WC-ZN-ZN"]
    assert t.covers(t.by_code["WC-ZN"].id, gid)
    assert not t.covers(t.by_code["WC-SY"].id, gid)
    assert t.grids_below(t.by_code["WC-ZN"].id) == {gid, t.grid_ids[tree.beside.grid]}
    assert t.county_of(gid) == "武昌区"


def test_a_grid_given_by_names_makes_the_nodes_it_needs(as_role):
    """A grid created with names only (as before the tree) hangs under nodes made from
    them: a name in 镇 is a town, in 村 a village; the same names reuse the same nodes."""
    admin = as_role("admin")
    body = {"name": "网格", "district": "延庆区", "street": "井庄镇", "community": "柳沟村"}
    for code in ("YQ-1", "YQ-2"):
        assert admin.post(f"{API}/grids", json={**body, "code": code}).status_code == 201
    (district,) = admin.get(f"{API}/regions").get_json()["items"]
    assert (district["name"], district["kind"]) == ("延庆区", "district")
    (town,) = district["children"]
    assert (town["name"], town["kind"]) == ("井庄镇", "town")
    (village,) = town["children"]
    assert (village["name"], village["kind"], village["grids"]) == ("柳沟村", "village", ["YQ-1", "YQ-2"])


def test_a_partner_serving_a_street_gets_requests_below_it_only(tree, worker):
    """A partner whose regions name 中南路街道 is asked for a request on a grid of 中南社区
    (the reason names the street), and left out for one on 首义路街道."""
    tree.inside.partner("街道慈善", categories=["medical"], regions=["WC-ZN"], fund_fen=10000 * YUAN)
    tree.outside.partners = tree.inside.partners
    inside = tree.inside.assess(tree.inside.household(), need("medical", "normal", 500 * YUAN))
    outside = tree.outside.assess(tree.outside.household(), need("medical", "normal", 500 * YUAN))
    worker()
    (offer,) = tree.inside.request(inside["needs"][0]["request_id"])["offers"]
    assert offer["partner"]["name"] == "街道慈善"
    serves = offer["reason_texts"][0]
    assert serves["code"] == "routing.serves_region"
    assert serves["params"]["region"] == "中南路街道"
    assert "中南路街道" in serves["message"]
    far = tree.outside.request(outside["needs"][0]["request_id"])
    assert far["offers"] == []
    (decision,) = [e["details"] for e in far["timeline"] if e["event"] == "request.routed"]
    assert [e["code"] for e in decision["excluded"] if e["partner"] == "街道慈善"] == ["region_not_served"]


def test_partner_regions_accept_region_codes_and_refuse_unknown_ones(tree):
    body = {"name": unique("伙伴-"), "kind": "charity", "adapter": "portal", "categories": ["medical"]}
    ok = tree.admin.post(f"{API}/partners", json={**body, "regions": ["WC-ZN", tree.outside.grid]})
    assert ok.status_code == 201, ok.get_json()
    assert sorted(ok.get_json()["regions"]) == sorted(["WC-ZN", tree.outside.grid])
    bad = tree.admin.post(f"{API}/partners", json={**body, "name": unique("伙伴-"), "regions": ["NOWHERE"]})
    assert bad.status_code == 422
    assert bad.get_json()["error"]["details"] == {"regions": ["unknown grid or region: NOWHERE"]}


def _paid_world(tree: Tree, worker) -> dict[str, int]:
    """An auto-grant fund serving everywhere; an emergency paid on each of the three grids
    (¥500 inside, ¥200 beside, ¥300 outside). Returns each household's id."""
    tree.inside.partner(
        "互助基金",
        kind="mutual_aid_fund",
        adapter="auto_grant",
        adapter_config={"limit_fen": 1000 * YUAN},
        categories=["emergency"],
        regions=["*"],
        fund_fen=5000 * YUAN,
    )
    ids = {}
    for name, world, amount in (
        ("inside", tree.inside, 500),
        ("beside", tree.beside, 200),
        ("outside", tree.outside, 300),
    ):
        ids[name] = world.household(head=f"{name}户")
        world.assess(ids[name], need("emergency", "critical", amount * YUAN))
    worker()
    return ids


def test_a_scoped_auditor_sees_only_its_subtree(tree, worker, login):
    """Scoped to 中南路街道: households, requests, offers, the ledger, the reports and their
    files hold the two grids below it and nothing of 首义路街道; an object there is a 404."""
    ids = _paid_world(tree, worker)
    auditor = scoped_auditor(login, "WC-ZN")
    mine = {ids["inside"], ids["beside"]}

    listed = auditor.get(f"{API}/households?per_page=100").get_json()["items"]
    assert {h["id"] for h in listed} == mine
    assert auditor.get(f"{API}/households/{ids['inside']}").status_code == 200
    assert auditor.get(f"{API}/households/{ids['outside']}").status_code == 404
    requests = auditor.get(f"{API}/requests?per_page=100").get_json()["items"]
    assert {r["household_id"] for r in requests} == mine
    outside_request = tree.admin.get(f"{API}/requests?household={ids['outside']}").get_json()["items"][0]["id"]
    assert auditor.get(f"{API}/requests/{outside_request}").status_code == 404
    offers = auditor.get(f"{API}/offers?per_page=100").get_json()["items"]
    assert len(offers) == 2

    ledger = auditor.get(f"{API}/ledger?per_page=100").get_json()["items"]
    assert ledger
    assert {t["household_id"] for t in ledger} == mine
    rows = list(
        csv.reader(io.StringIO(auditor.get(f"{API}/ledger?format=csv").get_data(as_text=True).lstrip("\ufeff")))
    )
    assert len(rows) == 1 + len(ledger)
    assert str(ids["outside"]) not in {row[4] for row in rows[1:]}

    report = auditor.get(f"{API}/reports/disbursements?group_by=category").get_json()
    assert (report["count"], report["amount_fen"]) == (2, 700 * YUAN)
    data = auditor.get(f"{API}/reports/disbursements?group_by=category&format=csv").get_data(as_text=True)
    assert "700.00" in data
    assert "1000.00" not in data
    assert auditor.get(f"{API}/reports/fulfilment").get_json()["overall"]["completed"] == 2
    assert auditor.get(f"{API}/reports/disbursements?region=WC-SY").status_code == 404
    assert auditor.get(f"{API}/regions/WC-SY").status_code == 404
    (own,) = auditor.get(f"{API}/regions").get_json()["items"]
    assert own["code"] == "WC-ZN"

    everything = tree.admin.get(f"{API}/reports/disbursements?group_by=category").get_json()
    assert (everything["count"], everything["amount_fen"]) == (3, 1000 * YUAN)


def test_roll_ups_are_the_sums_of_their_children(tree, worker, as_role):
    """Per district, per street of 武昌区, per community of 中南路街道: each row is the sum
    of the rows one level down, and the totals are the report's."""
    _paid_world(tree, worker)
    auditor = as_role("auditor")

    def rollup(region: str) -> dict:
        resp = auditor.get(f"{API}/reports/disbursements?region={region}")
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        assert (
            body["by_region"]["amount_fen"]
            == body["amount_fen"]
            == sum(r["amount_fen"] for r in body["by_region"]["rows"])
        )
        assert body["by_region"]["count"] == body["count"] == sum(r["count"] for r in body["by_region"]["rows"])
        return {r["code"]: r for r in body["by_region"]["rows"]}

    streets = rollup("WC")
    assert {code: r["amount_fen"] for code, r in streets.items()} == {"WC-ZN": 700 * YUAN, "WC-SY": 300 * YUAN}
    communities = rollup("WC-ZN")
    assert {c: r["amount_fen"] for c, r in communities.items()} == {"WC-ZN-SZ": 200 * YUAN, "WC-ZN-ZN": 500 * YUAN}
    assert sum(r["amount_fen"] for r in communities.values()) == streets["WC-ZN"]["amount_fen"]
    grids = rollup("WC-ZN-ZN")
    assert [(r["code"], r["kind"]) for r in grids.values()] == [(tree.inside.grid, "grid")]
    done = auditor.get(f"{API}/reports/fulfilment?region=WC").get_json()["by_region"]
    assert {r["code"]: r["count"] for r in done["rows"]} == {"WC-SY": 1, "WC-ZN": 2}


def test_a_move_that_would_make_a_cycle_is_refused(tree):
    """A node cannot move under itself or under a node below it (409, nothing changes); a
    legal move carries the grids below it, renames their place and is audited."""
    for code, parent in (("WC", "WC-ZN"), ("WC-ZN", "WC-ZN-ZN"), ("WC-ZN", "WC-ZN")):
        resp = tree.admin.patch(f"{API}/regions/{code}", json={"parent": parent})
        assert resp.status_code == 409, resp.get_json()
        assert resp.get_json()["error"]["code"] == "region_cycle"
    wrong_level = tree.admin.patch(f"{API}/regions/WC-ZN-ZN", json={"parent": "WC"})
    assert wrong_level.get_json()["error"]["code"] == "region_level"
    moved = tree.admin.patch(f"{API}/regions/WC-ZN-ZN", json={"parent": "WC-SY", "name": "中南新社区"})
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["path"] == "武昌区 / 首义路街道 / 中南新社区"
    grid = tree.admin.get(f"{API}/grids/{tree.inside.grid}").get_json()
    assert (grid["street"], grid["community"]) == ("首义路街道", "中南新社区")
    event = db.session().execute(select(AuditEvent).where(AuditEvent.action == "region.updated")).scalars().one()
    assert json.loads(db.session().get(AuditDetail, event.id).after) == {"name": "中南新社区", "parent": "WC-SY"}
    assert tree.admin.patch(f"{API}/regions/WC-ZN", json={"parent": None}).status_code == 409


def test_only_an_unscoped_admin_changes_the_tree(tree, login):
    name = unique("admin-")
    users.create_user(db.session(), username=name, password=PASSWORD, role="admin", region="WC-ZN")
    db.commit()
    scoped = login(name)
    resp = scoped.post(f"{API}/regions", json={"code": "X1", "name": "某区", "kind": "district"})
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "region_scope"
    assert tree.admin.get(f"{API}/households?per_page=100").status_code == 200


def test_the_county_of_a_grid_comes_from_the_tree(tree):
    """Moving a street to another district moves its grids' county with it."""
    assert (
        tree.admin.post(f"{API}/regions", json={"code": "YQ", "name": "延庆区", "kind": "district"}).status_code == 201
    )
    assert tree.admin.patch(f"{API}/regions/WC-SY", json={"parent": "YQ"}).status_code == 200
    session = db.session()
    grid = session.execute(select(Grid).where(Grid.code == tree.outside.grid)).scalar_one()
    assert region_tree.county_of(session, grid) == "延庆区"
    assert grid.district == "延庆区"


def test_money_restricted_to_a_street_reaches_the_grids_below_it_only(tree, worker, login):
    """A donor restricts money to 中南路街道 (a street, not a grid): a need on a grid of
    中南社区 below it is offered that money; one on 首义路街道 is not, with the code
    ``restricted_funds``. The restriction report shows the part to an auditor scoped to the
    street and not to one scoped to the other street."""
    p = tree.inside.partner("街道专项", categories=["medical"], regions=["*"])
    paid = tree.admin.post(
        f"{API}/partners/{p['id']}/deposits",
        json={
            "amount_fen": 2000 * YUAN,
            "reference": unique("DEP-"),
            "restriction": {"regions": ["WC-ZN"], "programme": "中南路街道助医专项"},
        },
    )
    assert paid.status_code == 201, paid.get_json()
    refused = tree.admin.post(
        f"{API}/partners/{p['id']}/deposits",
        json={"amount_fen": 100 * YUAN, "reference": unique("DEP-"), "restriction": {"regions": ["NOWHERE"]}},
    )
    assert refused.status_code == 422
    assert refused.get_json()["error"]["details"] == {"restriction.regions": ["unknown grid or region: NOWHERE"]}
    tree.outside.partners = tree.inside.partners
    inside = tree.inside.assess(tree.inside.household(), need("medical", "normal", 500 * YUAN))
    outside = tree.outside.assess(tree.outside.household(), need("medical", "normal", 500 * YUAN))
    worker()
    (offer,) = tree.inside.request(inside["needs"][0]["request_id"])["offers"]
    assert (offer["partner"]["id"], offer["amount_fen"]) == (p["id"], 500 * YUAN)
    far = tree.outside.request(outside["needs"][0]["request_id"])
    assert far["offers"] == []
    excluded = far["routing_reasons"]["excluded"]
    assert [(e["partner_id"], e["code"]) for e in excluded] == [(p["id"], "restricted_funds")]

    def programmes(client: ApiClient) -> list[str]:
        resp = client.get(f"{API}/reports/fund-restrictions?restricted_only=true")
        assert resp.status_code == 200, resp.get_json()
        return [part["programme"] for part in resp.get_json()["parts"]]

    assert "中南路街道助医专项" in programmes(tree.admin)
    assert programmes(scoped_auditor(login, "WC-ZN")) == ["中南路街道助医专项"]
    assert programmes(scoped_auditor(login, "WC-SY")) == []
    assert programmes(scoped_auditor(login, "WC")) == ["中南路街道助医专项"]


def test_a_scoped_auditor_reads_the_leads_and_jobs_of_its_region_only(tree, login, client):
    """A courier reports a household on each street: an auditor scoped to 中南路街道 lists
    the lead below it and not the other (a 404 by id), and the community figures count
    that lead alone. Openings on each street and one district-wide: its jobs figures count
    the one on its grids; an auditor scoped to 武昌区 counts all three."""
    body = {
        "name": "李快递",
        "phone": "13600001111",
        "username": unique("courier-"),
        "password": PASSWORD,
        "kind": "courier",
        "consent": True,
    }
    assert ApiClient(client).post(f"{API}/reporters", json=body).status_code == 201
    courier = login(body["username"])
    made = {}
    for key, world in (("inside", tree.inside), ("outside", tree.outside)):
        lead = {"address": "中南路12号3单元", "seen": "独居老人，几天没取快递", "urgency": "urgent", "grid": world.grid}
        resp = courier.post(f"{API}/leads", json=lead, headers={"Idempotency-Key": unique("k-")})
        assert resp.status_code == 201, resp.get_json()
        made[key] = resp.get_json()["id"]
    street = scoped_auditor(login, "WC-ZN")
    listed = street.get(f"{API}/leads").get_json()["items"]
    assert [lead["id"] for lead in listed] == [made["inside"]]
    assert street.get(f"{API}/leads/{made['outside']}").status_code == 404
    everyone = {lead["id"] for lead in tree.admin.get(f"{API}/leads").get_json()["items"]}
    assert {made["inside"], made["outside"]} <= everyone
    s = db.session()
    below = region_tree.grids_below(s, s.execute(select(Region.id).where(Region.code == "WC-ZN")).scalar_one())
    assert figures.community_figures(s, grids=below).total.leads == 1
    assert figures.community_figures(s).total.leads >= 2

    partner = tree.inside.partner("巧手工坊", categories=["employment"], regions=["*"])
    opening = {
        "partner_id": partner["id"],
        "title": "社区保洁",
        "kind": "service",
        "hours_per_week": 40,
        "pay_fen": 260000,
        "pay_unit": "month",
        "positions": 2,
    }
    for place in ({"grid": tree.inside.grid}, {"grid": tree.outside.grid}, {"district": "武昌区"}):
        resp = tree.admin.post(f"{API}/openings", json={**opening, **place})
        assert resp.status_code == 201, resp.get_json()
    jobs = street.get(f"{API}/reports/jobs").get_json()
    assert (jobs["openings_open"], jobs["positions_open"]) == (1, 2)
    county = scoped_auditor(login, "WC").get(f"{API}/reports/jobs").get_json()
    assert (county["openings_open"], county["positions_open"]) == (3, 6)
