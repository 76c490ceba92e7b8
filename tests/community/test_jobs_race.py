"""Caseworkers take the last places of a course and the last position of an opening at
the same moment: exactly as many win as there are places. Proved over HTTP against a real
threaded server, each call from its own client and connection, on whichever database the
suite runs on (PostgreSQL: the course's or the opening's row lock; SQLite: the serialised
writer)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import func, select

from broker.platform import db
from models import Enrolment, Placement
from tests.support import money
from tests.support.aid import make_world

PEOPLE, PLACES, POSITIONS = 6, 2, 1


def _race(calls: list[Any]) -> list[Any]:
    barrier = threading.Barrier(len(calls))

    def run(call: Any) -> Any:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_the_last_places_and_positions_go_to_exactly_as_many(app, as_role, make_user, login):
    world = make_world(as_role, make_user, login)
    household = world.household(
        head="张0",
        members=[
            {"name": f"张{i}", "relation": "head" if i == 0 else "sibling", "birth_date": "1985-01-01", "sex": "F"}
            for i in range(PEOPLE)
        ],
    )
    members = [m["id"] for m in world.caseworker.get(f"/api/v1/households/{household}").get_json()["members"]]
    partner = world.partner("巧手合作社", kind="company", categories=["in_kind"])
    shop = world.partner_clients["巧手合作社"]
    course = shop.post(
        "/api/v1/courses",
        json={"title": "刺绣", "skill": "刺绣", "teacher": "王师傅", "sessions": 2, "capacity": PLACES},
    ).get_json()
    opening = shop.post(
        "/api/v1/openings",
        json={"title": "保洁", "kind": "service", "hours_per_week": 20, "pay_fen": 1, "positions": POSITIONS},
    ).get_json()
    assert partner["id"] == course["partner_id"] == opening["partner_id"]
    tokens = [login(make_user("caseworker", grids=(world.grid,))).token for _ in members]
    db.session.remove()
    with money.live_server(app) as base:

        def post(token: str, path: str, body: dict) -> Any:
            def call() -> httpx.Response:
                with httpx.Client(base_url=base, timeout=120) as http:
                    return http.post(path, json=body, headers={"Authorization": f"Bearer {token}"})

            return call

        enrolled = _race(
            [
                post(t, f"/api/v1/courses/{course['id']}/enrolments", {"member_id": m})
                for t, m in zip(tokens, members, strict=True)
            ]
        )
        placed = _race(
            [
                post(t, "/api/v1/placements", {"opening_id": opening["id"], "member_id": m})
                for t, m in zip(tokens, members, strict=True)
            ]
        )
    assert sorted(r.status_code for r in enrolled) == [201] * PLACES + [409] * (PEOPLE - PLACES)
    assert {r.json()["error"]["code"] for r in enrolled if r.status_code == 409} == {"course_full"}
    assert sorted(r.status_code for r in placed) == [201] * POSITIONS + [409] * (PEOPLE - POSITIONS)
    assert {r.json()["error"]["code"] for r in placed if r.status_code == 409} == {"opening_full"}
    session = db.session()
    assert session.execute(select(func.count()).select_from(Enrolment)).scalar_one() == PLACES
    assert session.execute(select(func.count()).select_from(Placement)).scalar_one() == POSITIONS
    db.session.remove()
