"""Two volunteers claim the last place at the same moment: one wins. Proved over HTTP
against a real threaded server, each volunteer from its own client and connection, on
whichever database the suite runs on (PostgreSQL: the task's row lock; SQLite: the
serialised writer)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import func, select

from broker.platform import db
from models import TaskClaim, VolunteerTask
from tests.community.volunteer_world import family, make_team
from tests.conftest import ApiClient
from tests.support import money
from tests.support.aid import make_world

VOLUNTEERS, PLACES = 8, 3


def _race(calls: list[Any]) -> list[Any]:
    barrier = threading.Barrier(len(calls))

    def run(call: Any) -> Any:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_the_last_places_go_to_exactly_as_many_volunteers(app, client, as_role, make_user, login, worker):
    """Eight approved volunteers claim a task with three places at once: three 201s, five
    409 task_full; the task counts three claims and so does the table."""
    world = make_world(as_role, make_user, login)
    team = make_team(world)
    anon = ApiClient(client)
    usernames = []
    for i in range(VOLUNTEERS):
        team.volunteer(anon, f"志愿者{i}")
    usernames = [c.token for c in team.volunteers.values()]
    task = team.escort_task(worker, family(world, sms=False), slots=PLACES)
    db.session.remove()
    with money.live_server(app) as base:

        def claim(token: str) -> Any:
            def call() -> httpx.Response:
                with httpx.Client(base_url=base, timeout=120) as http:
                    return http.post(f"/api/v1/tasks/{task['id']}/claim", headers={"Authorization": f"Bearer {token}"})

            return call

        responses = _race([claim(token) for token in usernames])
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * PLACES + [409] * (VOLUNTEERS - PLACES)
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"task_full"}
    session = db.session()
    assert session.get(VolunteerTask, task["id"]).claimed == PLACES
    live = session.execute(select(func.count()).select_from(TaskClaim).where(TaskClaim.task_id == task["id"]))
    assert live.scalar_one() == PLACES
