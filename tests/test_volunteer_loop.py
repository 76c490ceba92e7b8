"""Issue 15's "done when", end to end over the API on whichever database the suite runs
on: a courier reports a household → the caseworker visits from the lead and assesses →
an escort need is routed to the volunteer team and handed out as a task → a volunteer
claims it, checks in and out → the family confirms → the volunteer's own family earns
points and redeems them at the shop, and cannot redeem more than it has, also when many
redemptions arrive at once (the race of tests/community/test_points_concurrency.py,
on this family) → the dashboards' figures move → the service certificate prints."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from broker.community import figures, points_shop
from broker.money import ledger_queries
from broker.platform import db
from broker.platform.errors import Conflict
from models import Account, Lead
from tests.community.test_points_concurrency import _in_thread
from tests.community.volunteer_world import API, make_team, ok, served
from tests.conftest import PASSWORD, ApiClient, unique
from tests.money.test_concurrency import _race
from tests.support.aid import make_world
from tests.support.registry_data import id_number
from tests.support.voice import agree

RACERS = 8


def _balance(household_id: int) -> int:
    found = db.session().execute(select(Account.balance_fen).where(Account.key == f"points:{household_id}"))
    return found.scalar_one_or_none() or 0


def test_from_a_couriers_report_to_points_redeemed_and_a_certificate(client, as_role, make_user, login, worker):
    world = make_world(as_role, make_user, login)
    anon = ApiClient(client)
    admin, caseworker, auditor = world.admin, world.caseworker, as_role("auditor")
    ok(admin.put(f"{API}/points/rules", json={"community": "科源社区", "activity": "escort", "points_per_hour": 10}))
    item = ok(
        admin.post(
            f"{API}/points/shop", json={"community": "科源社区", "name": "大米", "price_points": 5, "stock": 50}
        ),
        201,
    )
    before = ok(auditor.get(f"{API}/reports/volunteers"))["current"]

    # The volunteer, whose own family is in the registry and takes part in volunteer points.
    number = id_number(date(1986, 7, 9), "357")
    head = {"name": "何志强", "relation": "head", "birth_date": "1986-07-09", "sex": "M", "id_number": number}
    volunteer_family = world.household(head="何志强", members=[head])
    agree(caseworker, volunteer_family, "points")
    team = make_team(world)
    volunteer = team.volunteer(anon, "何志愿", id_number=number)

    # 1. A courier reports a household.
    rider = {
        "name": "赵骑手",
        "phone": "13500001234",
        "username": unique("rider-"),
        "password": PASSWORD,
        "consent": True,
    }
    ok(anon.post(f"{API}/reporters", json={**rider, "organisation": "某某外卖"}), 201)
    courier = login(rider["username"])
    lead = ok(
        courier.post(f"{API}/leads", json={"address": "科源社区东路7号1单元", "seen": "老人腿摔伤，独自在家"}), 201
    )

    # 2. The caseworker visits from the lead, records the household, and assesses its needs.
    household = {
        "grid": world.grid,
        "address": "科源社区东路7号1单元",
        "head_name": "钱奶奶",
        "phone": "13800138000",
        "monthly_income_fen": 90000,
        "members": [{"name": "钱奶奶", "relation": "head", "birth_date": "1940-01-05", "sex": "F"}],
    }
    visited = ok(
        caseworker.post(f"{API}/leads/{lead['id']}/visit", json={"household": household, "findings": "需陪同复诊"}), 201
    )
    family = visited["household_id"]
    assert ok(courier.get(f"{API}/leads/{lead['id']}"))["status"] == "visited"

    # 3. The escort need goes to the volunteer team, which hands it out as a task.
    task = team.escort_task(worker, family)
    # 4. A volunteer claims it, checks in and out.
    ok(volunteer.post(f"{API}/tasks/{task['id']}/claim"), 201)
    ok(volunteer.post(f"{API}/tasks/{task['id']}/check-in"))
    served(task["id"], hours=2)
    ok(volunteer.post(f"{API}/tasks/{task['id']}/check-out"))
    # 5. The family confirms, through its caseworker.
    done = ok(caseworker.post(f"{API}/tasks/{task['id']}/confirm", json={"method": "caseworker"}), 201)
    assert done["task"]["status"] == "done"
    assert world.request(task["request"])["status"] == "completed"

    # 6. The volunteer's family earned points, and spends them — not more than it has.
    account = ok(caseworker.get(f"{API}/points/accounts/{volunteer_family}"))
    assert account["balance"] == 20
    ok(caseworker.post(f"{API}/points/accounts/{volunteer_family}/redeem", json={"item_id": item["id"]}), 201)
    too_much = caseworker.post(
        f"{API}/points/accounts/{volunteer_family}/redeem", json={"item_id": item["id"], "quantity": 4}
    )
    assert too_much.status_code == 409
    assert too_much.get_json()["error"]["code"] == "not_enough_points"
    db.session.remove()
    results = _race(
        RACERS, _in_thread(lambda _i: points_shop.redeem(db.session(), volunteer_family, item["id"]).balance)
    )
    won = [r for r in results if not isinstance(r, Exception)]
    assert len(won) == 3  # 15 points left, 5 each
    assert {r.code for r in results if isinstance(r, Conflict)} == {"not_enough_points"}
    db.session.remove()
    assert _balance(volunteer_family) == 0
    assert ledger_queries.check(db.session()).ok

    # 7. The figures move: volunteer service, points, leads.
    after = ok(auditor.get(f"{API}/reports/volunteers"))["current"]
    assert after["person_times"] == before["person_times"] + 1
    assert after["minutes"] >= before["minutes"] + 120
    found = figures.community_figures(db.session())
    row = next(r for r in found.rows if r.community == "科源社区")
    assert (row.earned, row.redeemed, row.leads, row.leads_visited) == (20, 20, 1, 1)
    assert found.total.reporters == 1
    assert db.session().execute(select(Lead.status)).scalar_one() == "visited"

    # 8. The service certificate prints.
    pdf = volunteer.get(f"{API}/volunteers/{team.volunteer_ids['何志愿']}/certificate")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert pdf.data.rstrip().endswith(b"%%EOF")
