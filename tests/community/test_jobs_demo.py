"""The demo has the embroidery cooperative's home-based workshop with an order, its
course, a cleaning job, and a mother who completed the course and works from home — her
job-support request completed by the placement; seeding again adds nothing."""

from __future__ import annotations

from broker.cli import demo as seed


def _as(client, username: str) -> dict:
    token = client.post("/api/v1/auth/token", json={"username": username, "password": seed.DEMO_PASSWORD})
    return {"Authorization": f"Bearer {token.get_json()['token']}"}


def test_the_demo_has_openings_a_course_and_a_home_based_workshop_with_an_order(app, client, worker):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    assert "nothing seeded" in runner.invoke(args=["seed", "demo"]).output
    worker()
    cw = _as(client, "caseworker")
    found = client.get("/api/v1/openings", headers=cw).get_json()["items"]
    assert sorted((o["title"], o["home_based"], o["filled"]) for o in found) == [
        ("居家刺绣计件", True, 1),
        ("社区保洁员", False, 0),
    ]
    courses = client.get("/api/v1/courses", headers=cw).get_json()["items"]
    assert [(c["title"], c["enrolled"]) for c in courses] == [("陇绣入门班", 1)]
    placed = client.get("/api/v1/placements", headers=cw).get_json()["items"]
    assert [(p["member_name"], p["opening"]) for p in placed] == [("马秀兰", "居家刺绣计件")]
    request = client.get(f"/api/v1/requests/{placed[0]['request_id']}", headers=cw).get_json()
    assert (request["status"], request["status_reason"]) == ("completed", "placed_in_job")
    shop = _as(client, "qiaoshou")
    orders = client.get("/api/v1/home-orders", headers=shop).get_json()["items"]
    assert [(o["buyer"], o["quantity"], o["delivered"]) for o in orders] == [("北京文创礼品公司", 200, 60)]
    figures = client.get("/api/v1/reports/jobs", headers=cw).get_json()
    assert (figures["courses_completed"], figures["placements"], figures["home_workers"]) == (1, 1, 1)
    assert figures["home_earnings_fen"] == 90000
