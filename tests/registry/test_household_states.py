"""A household's state over the API: moved away, deceased (a household of one), recovered
— off the active lists (the list, the coverage view, new needs) with its history kept,
and back with a reason; a member who died stays in the record but leaves the facts.
Every change is on the audit chain, which still verifies."""

from __future__ import annotations

from broker import audit
from broker.platform import db
from tests.support.aid import make_world, need

API = "/api/v1"


def _ids(page: dict) -> set[int]:
    return {h["id"] for h in page["items"]}


def test_a_household_that_moved_away_leaves_the_active_lists_and_comes_back(as_role, make_user, login):
    world = make_world(as_role, make_user, login)
    cw = world.caseworker
    hid = world.household(head="赵刚")
    path = f"{API}/households/{hid}/state"
    coverage = cw.get(f"{API}/coverage?not_visited_days=30").get_json()
    assert hid in {h["household_id"] for h in coverage["items"]}

    missing = cw.post(path, json={"state": "moved_out"})
    assert missing.status_code == 422
    assert "reason" in missing.get_json()["error"]["details"]

    moved = cw.post(path, json={"state": "moved_out", "reason": "随子女迁往外省"})
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["state"] == "moved_out"
    assert hid not in _ids(cw.get(f"{API}/households").get_json())
    assert hid in _ids(cw.get(f"{API}/households?state=inactive").get_json())
    assert hid in _ids(cw.get(f"{API}/households?state=all").get_json())
    coverage = cw.get(f"{API}/coverage?not_visited_days=30").get_json()
    assert hid not in {h["household_id"] for h in coverage["items"]}
    refused = cw.post(f"{API}/households/{hid}/assessments", json={"needs": [need("living", "normal", 50000, "")]})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "household_inactive"
    again = cw.post(path, json={"state": "moved_out", "reason": "再次提交"})
    assert again.get_json()["error"]["code"] == "household_state_unchanged"

    back = cw.post(path, json={"state": "active", "reason": "登记错误，仍住原址"})
    assert back.get_json()["state"] == "active"
    assert hid in _ids(cw.get(f"{API}/households").get_json())
    db.session.remove()
    changes = audit.events(db.session(), household_id=hid, action="household.state_changed").items
    assert [(e.before["state"], e.after["state"]) for e in changes] == [
        ("moved_out", "active"),
        ("active", "moved_out"),
    ]
    assert audit.verify(db.session()).ok


def test_a_member_who_died_leaves_the_facts_and_a_household_of_one_is_closed(as_role, make_user, login):
    world = make_world(as_role, make_user, login)
    cw = world.caseworker
    hid = world.household(
        head="钱老伯",
        members=[
            {"name": "钱老伯", "relation": "head", "birth_date": "1940-02-01"},
            {"name": "钱老太", "relation": "spouse", "birth_date": "1942-03-01"},
        ],
    )
    household = cw.get(f"{API}/households/{hid}").get_json()
    assert (household["member_count"], household["elderly_count"]) == (2, 2)
    state = f"{API}/households/{hid}/state"
    two = cw.post(state, json={"state": "deceased", "reason": "户主病故"})
    assert two.status_code == 409
    assert two.get_json()["error"]["code"] == "household_not_single"

    wife = household["members"][1]["id"]
    died = cw.post(f"{API}/households/{hid}/members/{wife}/deceased", json={"reason": "社区通知，病故"})
    assert died.status_code == 200, died.get_json()
    body = died.get_json()
    assert (body["member_count"], body["elderly_count"], body["income_per_capita_fen"]) == (1, 1, 180000)
    assert body["members"][1]["deceased_on"] is not None
    closed = cw.post(state, json={"state": "deceased", "reason": "户主病故"})
    assert closed.status_code == 200
    assert all(m["deceased_on"] for m in closed.get_json()["members"])
    assert closed.get_json()["member_count"] == 0
    other = as_role("caseworker", grids=())
    assert other.post(state, json={"state": "active", "reason": "越权"}).status_code == 404
