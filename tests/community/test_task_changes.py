"""Changes of plan on a volunteer task, over the API: a volunteer withdraws a claim
before checking in (the place opens, another takes it, the response time counts from
the claim that stands); a checked-in claim cannot be withdrawn; the leader cancels an
open task with a reason (its claims withdrawn, its volunteers told, audited), and a
task under way cannot be cancelled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from broker.platform import db
from models import AuditEvent, Notification, TaskClaim, VolunteerTask
from models.base import utcnow
from tests.community.volunteer_world import API, family, make_team, ok
from tests.conftest import ApiClient
from tests.support.aid import make_world


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


@pytest.fixture
def anon(client) -> ApiClient:
    return ApiClient(client)


def test_a_withdrawn_claim_opens_the_place_and_the_first_claim_that_stands_counts(world, anon, worker, as_role):
    team = make_team(world)
    first, second = team.volunteer(anon, "甲志愿"), team.volunteer(anon, "乙志愿")
    task = team.escort_task(worker, family(world, sms=False))
    ok(first.post(f"{API}/tasks/{task['id']}/claim"), 201)
    assert second.post(f"{API}/tasks/{task['id']}/claim").get_json()["error"]["code"] == "task_full"
    early = utcnow() - timedelta(hours=3)
    db.session().execute(update(TaskClaim).values(claimed_at=early))
    db.session().execute(update(VolunteerTask).values(first_claim_at=early))
    db.commit()
    assert second.post(f"{API}/tasks/{task['id']}/withdraw").get_json()["error"]["code"] == "not_claimed"
    gone = ok(first.post(f"{API}/tasks/{task['id']}/withdraw"))
    assert gone["status"] == "withdrawn"
    assert ok(first.post(f"{API}/tasks/{task['id']}/withdraw"))["status"] == "withdrawn"  # again: as it is
    listed = ok(team.leader.get(f"{API}/teams/{team.id}/tasks"))["items"][0]
    assert (listed["status"], listed["claimed"], listed["first_claim_at"], listed["claims"]) == ("open", 0, None, [])
    ok(second.post(f"{API}/tasks/{task['id']}/claim"), 201)
    row = db.session().get(VolunteerTask, task["id"])
    db.session().refresh(row)
    assert row.first_claim_at > early + timedelta(hours=2)  # the claim that stands, not the withdrawn one
    ok(second.post(f"{API}/tasks/{task['id']}/check-in"))
    late = second.post(f"{API}/tasks/{task['id']}/withdraw")
    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "invalid_transition"
    figures = ok(as_role("auditor").get(f"{API}/reports/volunteers"))
    assert figures["current"]["hours_to_claim"] < 2
    actions = list(db.session().execute(select(AuditEvent.action)).scalars())
    assert actions.count("task.claim_withdrawn") == 1


def test_the_leader_cancels_an_open_task_with_a_reason(world, anon, worker):
    team = make_team(world)
    volunteer = team.volunteer(anon, "丙志愿")
    task = team.escort_task(worker, family(world, sms=False), slots=2)
    ok(volunteer.post(f"{API}/tasks/{task['id']}/claim"), 201)
    other = make_team(world, categories=("medical",))
    assert other.leader.post(f"{API}/tasks/{task['id']}/cancel", json={"reason": "other"}).status_code == 404
    assert volunteer.post(f"{API}/tasks/{task['id']}/cancel", json={"reason": "other"}).status_code == 403
    bad = team.leader.post(f"{API}/tasks/{task['id']}/cancel", json={"reason": "bored"})
    assert bad.status_code == 422
    done = ok(team.leader.post(f"{API}/tasks/{task['id']}/cancel", json={"reason": "family_declined"}))
    assert (done["status"], done["cancel_reason"], done["claimed"], done["claims"]) == (
        "cancelled",
        "family_declined",
        0,
        [],
    )
    assert ok(team.leader.post(f"{API}/tasks/{task['id']}/cancel", json={"reason": "family_declined"}))["status"]
    closed = volunteer.post(f"{API}/tasks/{task['id']}/claim")
    assert closed.status_code == 409
    assert closed.get_json()["error"]["code"] == "task_closed"
    told = db.session().execute(select(Notification).where(Notification.code == "task.cancelled")).scalars().all()
    assert len(told) == 1
    actions = set(db.session().execute(select(AuditEvent.action)).scalars())
    assert "task.cancelled" in actions

    busy = team.escort_task(worker, family(world, sms=False))
    ok(volunteer.post(f"{API}/tasks/{busy['id']}/claim"), 201)
    ok(volunteer.post(f"{API}/tasks/{busy['id']}/check-in"))
    refused = team.leader.post(f"{API}/tasks/{busy['id']}/cancel", json={"reason": "other"})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "task_under_way"
