"""A volunteer team with its leader, a family on the grid that agreed to SMS, and
volunteers signed up and approved — all over the HTTP API, as their users would."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from broker.platform import db
from models import TaskClaim
from models.base import utcnow
from tests.conftest import PASSWORD, ApiClient, unique
from tests.support.aid import World, need
from tests.support.voice import agree

API = "/api/v1"
PHONE = "13800138000"


def ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:600])
    return resp.get_json()


@dataclass
class Team:
    world: World
    id: int
    name: str
    leader: ApiClient
    volunteers: dict[str, ApiClient] = field(default_factory=dict)
    volunteer_ids: dict[str, int] = field(default_factory=dict)

    def sign_up(self, anon: ApiClient, name: str, **extra: Any) -> dict:
        body = {
            "team": self.id,
            "name": name,
            "phone": "139" + unique("")[-8:].rjust(8, "0"),
            "username": unique("vol-"),
            "password": PASSWORD,
            "skills": ["陪诊"],
            "languages": ["普通话"],
            "availability": "周末",
            "grids": [self.world.grid],
            "consent": True,
            **extra,
        }
        made = ok(anon.post(f"{API}/volunteers", json=body), 201)
        made["username"] = body["username"]
        return made

    def volunteer(self, anon: ApiClient, name: str, **extra: Any) -> ApiClient:
        """A volunteer signed up and approved by the leader, signed in."""
        made = self.sign_up(anon, name, **extra)
        ok(self.leader.post(f"{API}/volunteers/{made['id']}/decision", json={"decision": "approve"}))
        client = self.world.login(made["username"])
        self.volunteers[name], self.volunteer_ids[name] = client, made["id"]
        return client

    def escort_task(self, worker: Any, household: int, *, slots: int = 1, category: str = "counselling") -> dict:
        """A need of the household routed to the team, accepted, and handed out as a task."""
        request_id = self.world.assess(household, need(category, description="陪同就医"))["needs"][0]["request_id"]
        worker()
        offer = next(o for o in self.world.offers_of(self.name) if o["request_id"] == request_id)
        ok(self.leader.post(f"{API}/offers/{offer['id']}/accept", json={}))
        now = utcnow()
        body = {
            "offer_id": offer["id"],
            "kind": "escort",
            "title": "陪同就医",
            "place": "武汉市第一医院",
            "starts_at": (now + timedelta(minutes=30)).isoformat(),
            "ends_at": (now + timedelta(hours=3)).isoformat(),
            "slots": slots,
        }
        task = ok(self.leader.post(f"{API}/teams/{self.id}/tasks", json=body), 201)
        task["request"] = request_id
        return task


def make_team(world: World, *, categories: tuple[str, ...] = ("counselling", "medical")) -> Team:
    name = unique("武昌区志愿服务队-")
    partner = world.partner(name, kind="volunteer_team", categories=list(categories))
    return Team(world, partner["id"], name, world.partner_clients[name])


def family(world: World, *, sms: bool = True) -> int:
    body = {
        "grid": world.grid,
        "address": f"武昌区中山路{unique('')}号",
        "head_name": "刘桂英",
        "phone": PHONE,
        "monthly_income_fen": 120000,
        "members": [{"name": "刘桂英", "relation": "head", "birth_date": "1950-02-01", "sex": "F"}],
    }
    household = ok(world.caseworker.post(f"{API}/households", json=body), 201)["id"]
    if sms:
        agree(world.caseworker, household, "sms")
    return household


def served(task_id: int, hours: int) -> None:
    """Time control: the volunteer checked in ``hours`` ago (nobody waits in a test)."""
    db.session().execute(
        update(TaskClaim).where(TaskClaim.task_id == task_id).values(checked_in_at=utcnow() - timedelta(hours=hours))
    )
    db.commit()


def matrix_objects(s: Any, make_user: Any, login: Any, worker: Any, pending: int = 0) -> None:
    """The access matrix's volunteer objects, on scenario ``s``: a team serving job
    support on grid C (so no other need of the scenario reaches it), its approved
    volunteer (the matrix's ``volunteer`` role), a family on grid C that agreed to SMS,
    three of its needs handed out as tasks — one claimed, one checked out, one checked
    out for the caseworker to confirm — and ``pending`` sign-ups awaiting a decision."""
    admin, cw = s.api["admin"], s.api["caseworker"]
    team = ok(
        admin.post(
            f"{API}/partners",
            json={
                "name": unique("武昌区志愿服务队-"),
                "kind": "volunteer_team",
                "adapter": "portal",
                "categories": ["employment"],
                "regions": [s.grid_c],
            },
        ),
        201,
    )["id"]
    leader = login(make_user("partner", partner_id=team))

    def sign_up(name: str) -> dict:
        body = {
            "team": team,
            "name": name,
            "phone": "13911112222",
            "username": unique("mx-vol-"),
            "password": PASSWORD,
            "consent": True,
        }
        made = ok(admin.post(f"{API}/volunteers", json=body), 201)
        made["username"] = body["username"]
        return made

    volunteer = sign_up("矩阵志愿者")
    ok(leader.post(f"{API}/volunteers/{volunteer['id']}/decision", json={"decision": "approve"}))
    s.usernames["volunteer"] = volunteer["username"]
    s.api["volunteer"] = vol = login(volunteer["username"])
    body = {
        "grid": s.grid_c,
        "address": f"武昌区中山路{unique('')}号",
        "head_name": "刘桂英",
        "phone": PHONE,
        "monthly_income_fen": 120000,
        "members": [{"name": "刘桂英", "relation": "head", "birth_date": "1950-02-01", "sex": "F"}],
    }
    household = ok(cw.post(f"{API}/households", json=body), 201)["id"]
    agree(cw, household, "sms")
    needs = [{"category": "employment", "urgency": "normal", "description": f"陪同求职{i}"} for i in range(3)]
    made = ok(cw.post(f"{API}/households/{household}/assessments", json={"summary": "矩阵", "needs": needs}), 201)
    worker()
    request_ids = [n["request_id"] for n in made["needs"]]
    offers = {o["request_id"]: o["id"] for o in ok(leader.get(f"{API}/offers?per_page=50"))["items"]}
    now = utcnow()
    tasks = []
    for rid in request_ids:
        ok(leader.post(f"{API}/offers/{offers[rid]}/accept", json={}))
        task = {
            "offer_id": offers[rid],
            "kind": "escort",
            "title": "陪同求职",
            "place": "街道就业服务站",
            "starts_at": (now + timedelta(minutes=30)).isoformat(),
            "ends_at": (now + timedelta(hours=3)).isoformat(),
            "slots": 5,
        }
        tasks.append(ok(leader.post(f"{API}/teams/{team}/tasks", json=task), 201)["id"])
    for task_id in tasks:
        ok(vol.post(f"{API}/tasks/{task_id}/claim"), 201)
    for task_id in tasks[1:]:
        ok(vol.post(f"{API}/tasks/{task_id}/check-in"))
        served(task_id, hours=1)
        ok(vol.post(f"{API}/tasks/{task_id}/check-out"))
    s.team, s.volunteer = team, volunteer["id"]
    s.task_claimed, s.task_out, s.task_confirm = tasks
    s.pools["pending_volunteer"] = [sign_up(f"待审核{i}")["id"] for i in range(pending)]
