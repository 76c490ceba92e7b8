"""Building blocks for the closed-loop tests, all over the HTTP API: a grid with its
caseworker, households, partners with their users and funds, and assessments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from broker.money import funds
from broker.platform import db
from tests.conftest import ApiClient, unique

YUAN = 100


@dataclass
class World:
    """A grid, an admin, the grid's caseworker, and the partners made so far."""

    admin: ApiClient
    caseworker: ApiClient
    grid: str
    make_user: Any
    login: Any
    partners: dict[str, dict] = field(default_factory=dict)
    partner_clients: dict[str, ApiClient] = field(default_factory=dict)

    def partner(
        self,
        name: str,
        *,
        categories: list[str],
        adapter: str = "portal",
        adapter_config: dict | None = None,
        kind: str = "charity",
        regions: list[str] | None = None,
        max_amount_fen: int | None = None,
        respond_within_hours: int = 48,
        fund_fen: int = 0,
    ) -> dict:
        """Create a partner over the API, give it a user and (optionally) money."""
        resp = self.admin.post(
            "/api/v1/partners",
            json={
                "name": name,
                "kind": kind,
                "adapter": adapter,
                "adapter_config": adapter_config or {},
                "categories": categories,
                "regions": regions or [self.grid],
                "max_amount_fen": max_amount_fen,
                "respond_within_hours": respond_within_hours,
            },
        )
        assert resp.status_code == 201, resp.get_json()
        partner = resp.get_json()
        if fund_fen:
            paid = self.admin.post(
                f"/api/v1/partners/{partner['id']}/deposits", json={"amount_fen": fund_fen, "reference": unique("DEP-")}
            )
            assert paid.status_code == 201, paid.get_json()
        self.partners[name] = partner
        self.partner_clients[name] = self.login(self.make_user("partner", partner_id=partner["id"]))
        return partner

    def household(self, *, head: str = "张建国", consent: bool = False, members: list[dict] | None = None) -> int:
        resp = self.caseworker.post(
            "/api/v1/households",
            json={
                "grid": self.grid,
                "address": f"海淀区中关村东路{unique('')}号",
                "head_name": head,
                "monthly_income_fen": 180000,
                "consent_to_share": consent,
                "members": members or [{"name": head, "relation": "head", "birth_date": "1980-05-01", "sex": "M"}],
            },
        )
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()["id"]

    def assess(self, household_id: int, *needs: dict, summary: str = "visit") -> dict:
        resp = self.caseworker.post(
            f"/api/v1/households/{household_id}/assessments", json={"summary": summary, "needs": list(needs)}
        )
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    def request(self, request_id: int) -> dict:
        resp = self.caseworker.get(f"/api/v1/requests/{request_id}")
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()

    def offers_of(self, name: str, **filters: Any) -> list[dict]:
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        resp = self.partner_clients[name].get(f"/api/v1/offers?per_page=200&{query}")
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()["items"]


def deposit(partner_id: int, amount_fen: int) -> None:
    """Money into a partner's fund, as the ledger records a donation (for callers without
    an admin client; :meth:`World.partner` deposits over the API)."""
    funds.record_deposit(db.session(), partner_id, amount_fen=amount_fen, reference=unique("DEP-"))
    db.commit()


def need(category: str, urgency: str = "normal", amount_fen: int | None = None, description: str = "") -> dict:
    body: dict[str, Any] = {"category": category, "urgency": urgency, "description": description}
    if amount_fen is not None:
        body["amount_fen"] = amount_fen
    return body


def make_world(as_role: Any, make_user: Any, login: Any, grid: str | None = None) -> World:
    """An admin, a grid and its caseworker."""
    admin = as_role("admin")
    code = grid or unique("HD-T-")
    resp = admin.post(
        "/api/v1/grids",
        json={
            "code": code,
            "name": "中关村东路第一网格",
            "district": "海淀区",
            "street": "中关村街道",
            "community": "科源社区",
        },
    )
    assert resp.status_code == 201, resp.get_json()
    caseworker = login(make_user("caseworker", grids=(code,)))
    return World(admin=admin, caseworker=caseworker, grid=code, make_user=make_user, login=login)


def fire_scheduled(kind: str) -> int:
    """Do what RQ's scheduler does when a job's time comes, now, for the scheduled outbox
    jobs of ``kind`` — and for its rows still waiting in the table to come within the
    relay's horizon (time control for tests: nobody waits for a backoff or a deadline).
    Returns how many were moved onto their queue."""
    from rq.job import Job
    from rq.registry import ScheduledJobRegistry
    from sqlalchemy import select

    from broker.platform import outbox_relay, queue
    from models import OutboxMessage
    from models.base import utcnow

    conn = queue.connection()
    fired = 0
    session = db.session()
    waiting = session.execute(
        select(OutboxMessage).where(
            OutboxMessage.kind == kind, OutboxMessage.processed_at.is_(None), OutboxMessage.enqueued_at.is_(None)
        )
    ).scalars()
    for msg in waiting:
        queue.queue(msg.queue).enqueue(outbox_relay.JOB_FUNC, msg.id, job_id=f"outbox-{msg.id}")
        msg.enqueued_at = utcnow()
        fired += 1
    session.commit()
    for name in queue.QUEUES:
        q = queue.queue(name)
        registry = ScheduledJobRegistry(queue=q)
        for job_id in registry.get_job_ids():
            job = Job.fetch(job_id, connection=conn)
            msg = db.session().get(OutboxMessage, job.args[0])
            if msg is None or msg.kind != kind:
                continue
            registry.remove(job)
            q.enqueue_job(job)
            fired += 1
    db.session.remove()
    return fired
