"""The access matrix's jobs objects, over the HTTP API as their users would make them: a
home-based opening and a course of partner P, an employment request of the scenario's
household (handed to job matching), its head enrolled and placed (from 100 days ago, so
the 3-month follow-up is due), an order of the workshop — and the pools of fresh
objects the succeeding calls act on."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from tests.conftest import unique

API = "/api/v1"
STARTED = (date.today() - timedelta(days=100)).isoformat()


def ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:600])
    return resp.get_json()


def opening_body(partner_id: int) -> dict:
    return {
        "partner_id": partner_id,
        "title": "矩阵居家刺绣",
        "kind": "handicraft",
        "skill": "刺绣",
        "hours_per_week": 20,
        "pay_fen": 150,
        "pay_unit": "piece",
        "home_based": True,
        "positions": 1000,
    }


def course_body(partner_id: int) -> dict:
    return {
        "partner_id": partner_id,
        "title": "矩阵刺绣课",
        "skill": "刺绣",
        "teacher": "王师傅",
        "sessions": 4,
        "capacity": 1000,
    }


def _member(s: Any, *, need: bool = False) -> int:
    """The head of a new household on grid A (with an employment request, with ``need``:
    the request's id is then kept in ``s.job_need_member``)."""
    body = {
        "grid": s.grid_a,
        "address": f"海淀区中关村南大街{unique('')}号",
        "head_name": "赵大勇",
        "monthly_income_fen": 150000,
        "members": [{"name": "赵大勇", "relation": "head", "birth_date": "1982-03-04", "sex": "M"}],
    }
    made = ok(s.api["admin"].post(f"{API}/households", json=body), 201)
    member = made["members"][0]["id"]
    if need:
        needs = {"summary": "就业", "needs": [{"category": "employment", "urgency": "normal"}]}
        request_id = ok(s.api["caseworker"].post(f"{API}/households/{made['id']}/assessments", json=needs), 201)[
            "needs"
        ][0]["request_id"]
        s.job_need_member[request_id] = member
        return request_id
    return member


def matrix_jobs(s: Any, wanted: Counter) -> None:
    partner, cw = s.api["partner"], s.api["caseworker"]
    s.opening = ok(partner.post(f"{API}/openings", json=opening_body(s.partner)), 201)["id"]
    s.course = ok(partner.post(f"{API}/courses", json=course_body(s.partner)), 201)["id"]
    needs = {"summary": "就业", "needs": [{"category": "employment", "urgency": "normal"}], "confirm_duplicate": True}
    s.job_request = ok(cw.post(f"{API}/households/{s.household}/assessments", json=needs), 201)["needs"][0][
        "request_id"
    ]
    s.worker()
    s.enrolment = ok(cw.post(f"{API}/courses/{s.course}/enrolments", json={"member_id": s.head_member}), 201)["id"]
    placed = {"opening_id": s.opening, "member_id": s.head_member, "starts_on": STARTED}
    s.placement = ok(cw.post(f"{API}/placements", json=placed), 201)["id"]
    order = {"buyer": "矩阵买家", "items": "香包", "quantity": 100000, "amount_fen": 100}
    s.home_order = ok(partner.post(f"{API}/openings/{s.opening}/orders", json=order), 201)["id"]
    pools = s.pools
    pools["opening"] = [
        ok(partner.post(f"{API}/openings", json=opening_body(s.partner)), 201)["id"] for _ in range(wanted["opening"])
    ]
    pools["job_member"] = [_member(s) for _ in range(wanted["job_member"])]
    s.job_need_member = {s.job_request: s.head_member}
    pools["job_need"] = [_member(s, need=True) for _ in range(wanted["job_need"])]
    pools["enrolment"] = [
        ok(cw.post(f"{API}/courses/{s.course}/enrolments", json={"member_id": _member(s)}), 201)["id"]
        for _ in range(wanted["enrolment"])
    ]
    pools["placement"] = [
        ok(
            cw.post(f"{API}/placements", json={"opening_id": s.opening, "member_id": _member(s), "starts_on": STARTED}),
            201,
        )["id"]
        for _ in range(wanted["placement"])
    ]
