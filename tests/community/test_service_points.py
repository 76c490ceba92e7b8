"""Service earns points: the family confirms a volunteer's service and the volunteer's
own family (the household the volunteer's ID number named at sign-up) is credited
family volunteer points under its community's rule, once however often the
confirmation is sent, on the ledger and the chain; a family without consent to points
earns nothing and the service record stands."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from broker.community import service_points
from broker.money import ledger_queries
from broker.platform import db
from models import Account, AuditEvent, PointsEarning, ServiceRecord
from tests.community.volunteer_world import API, family, make_team, ok, served
from tests.conftest import ApiClient
from tests.support.aid import make_world
from tests.support.registry_data import id_number
from tests.support.voice import agree


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


@pytest.fixture
def anon(client) -> ApiClient:
    return ApiClient(client)


def _volunteer_with_family(world, team, anon, *, consent: bool) -> tuple[ApiClient, int]:
    """A volunteer whose ID number names the head of a registry household (its family)."""
    number = id_number(date(1985, 3, 2), "246")
    member = {"name": "黄家长", "relation": "head", "birth_date": "1985-03-02", "sex": "M", "id_number": number}
    own_family = world.household(head="黄家长", members=[member])
    if consent:
        agree(world.caseworker, own_family, "points")
    return team.volunteer(anon, "黄志愿", id_number=number), own_family


def _serve_and_confirm(world, team, volunteer, worker) -> dict:
    task = team.escort_task(worker, family(world, sms=False))
    ok(volunteer.post(f"{API}/tasks/{task['id']}/claim"), 201)
    ok(volunteer.post(f"{API}/tasks/{task['id']}/check-in"))
    served(task["id"], hours=2)
    ok(volunteer.post(f"{API}/tasks/{task['id']}/check-out"))
    return task


def _balance(household_id: int) -> int:
    found = db.session().execute(select(Account.balance_fen).where(Account.key == f"points:{household_id}"))
    return found.scalar_one_or_none() or 0


def test_a_confirmed_service_credits_the_volunteers_family_once(world, anon, worker):
    """Two hours of escort at 10 points an hour: 20 points for the volunteer's family, not
    for the family served; confirming again credits nothing more; the earning names the
    service record and is on the ledger and the chain."""
    rule = {"community": "科源社区", "activity": "escort", "points_per_hour": 10}
    ok(world.admin.put(f"{API}/points/rules", json=rule))
    team = make_team(world)
    volunteer, own_family = _volunteer_with_family(world, team, anon, consent=True)
    task = _serve_and_confirm(world, team, volunteer, worker)
    done = ok(world.caseworker.post(f"{API}/tasks/{task['id']}/confirm", json={"method": "caseworker"}), 201)
    record = db.session().get(ServiceRecord, done["records"][0]["id"])
    again = world.caseworker.post(f"{API}/tasks/{task['id']}/confirm", json={"method": "caseworker"})
    assert again.status_code == 200
    earnings = list(db.session().execute(select(PointsEarning)).scalars())
    assert [(e.household_id, e.activity, e.source_ref) for e in earnings] == [
        (own_family, "escort", service_points.source_ref(record))
    ]
    assert 19 <= earnings[0].points <= 20
    assert _balance(own_family) == earnings[0].points
    account = ok(world.caseworker.get(f"{API}/points/accounts/{own_family}"))
    assert account["balance"] == earnings[0].points
    assert _balance(record.household_id) == 0  # the family served earns nothing for being served
    actions = list(db.session().execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())
    assert actions.index("service_record.confirmed") < actions.index("points.earned")
    assert actions.count("points.earned") == 1
    assert ledger_queries.check(db.session()).ok


def test_no_consent_or_no_rule_earns_nothing_and_the_service_stands(world, anon, worker):
    """The volunteer's family never agreed to points: the record is written, the task done,
    no points move, and why is on the chain."""
    team = make_team(world)
    volunteer, own_family = _volunteer_with_family(world, team, anon, consent=False)
    task = _serve_and_confirm(world, team, volunteer, worker)
    done = ok(world.caseworker.post(f"{API}/tasks/{task['id']}/confirm", json={"method": "caseworker"}), 201)
    assert done["task"]["status"] == "done"
    assert db.session().execute(select(PointsEarning)).first() is None
    assert _balance(own_family) == 0
    skipped = db.session().execute(select(AuditEvent).where(AuditEvent.action == "points.not_earned")).scalar_one()
    assert skipped.household_id == own_family
    assert json.loads(skipped.after)["reason"] == "no_points_consent"
