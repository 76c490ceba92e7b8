"""The demo has a left-behind child with a dream mentor and an elderly man living alone
with a family doctor and a volunteer, each with a first contact; seeding again adds nothing."""

from __future__ import annotations

from broker.cli import demo as seed


def test_the_demo_cares_for_a_left_behind_child_and_an_elderly_man_living_alone(app, client):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    assert "nothing seeded" in runner.invoke(args=["seed", "demo"]).output
    token = client.post("/api/v1/auth/token", json={"username": "caseworker", "password": seed.DEMO_PASSWORD})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    plans = client.get("/api/v1/care-plans", headers=headers).get_json()["items"]
    assert sorted((p["member_name"], p["kind"], [c["role"] for c in p["carers"]]) for p in plans) == [
        ("张小宇", "mentor", ["mentor"]),
        ("赵德明", "doctor_volunteer", ["doctor", "volunteer"]),
    ]
    figures = client.get("/api/v1/reports/care", headers=headers).get_json()
    assert figures["children_mentored"] == 1
    assert (figures["elderly_alone"], figures["elderly_alone_cared"]) == (1, 1)
    assert (figures["contacts_due"], figures["contacts_on_time"]) == (2, 2)
