"""The model case, end to end over HTTP with real RQ workers: a street vendor's son has
acute leukaemia; the caseworker files for medical and education assistance first, then
assesses the family; the emergency grant is paid with no human in the loop; policy
before charity: the charities are offered only what the policies will not cover — the
medical rest is split between the charity federation and the Red Cross (over a signed
webhook), a rejected schooling offer moves on — and each request completes when its
policy is approved; a volunteer team that never answers expires, and every request ends
completed or failed, with reasons, and a trail the auditor can follow yuan by yuan."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

from rq import SimpleWorker
from sqlalchemy import select

from broker import audit
from broker.money import funds
from broker.platform import db, queue
from broker.registry import identity
from models import Account, Notification
from models.base import utcnow
from tests.support.aid import YUAN, make_world, need
from tests.support.partner_server import PartnerServer

SON_ID = identity.make("110108", date(2014, 3, 2), "211")
MOTHER_ID = identity.make("110108", date(1984, 10, 12), "322")


def approve(world, application: dict) -> None:
    """The department approves: every document ticked, submitted, approved."""
    cw = world.caseworker
    ticked = {d["code"]: True for d in application["documents"]}
    assert cw.post(f"/api/v1/applications/{application['id']}/documents", json={"documents": ticked}).status_code == 200
    for status in ("submitted", "approved"):
        step = cw.post(f"/api/v1/applications/{application['id']}/steps", json={"status": status})
        assert step.status_code == 200, step.get_json()


def test_the_model_case(as_role, make_user, login, worker):
    """The leukaemia household's five needs all end completed or failed, money traced in the ledger."""
    world = make_world(as_role, make_user, login, grid="HD-ZGC-01")
    with PartnerServer() as red_cross_system:
        fund = world.partner(
            "社区互助基金",
            kind="mutual_aid_fund",
            adapter="auto_grant",
            adapter_config={"limit_fen": 1000 * YUAN},
            categories=["emergency"],
            respond_within_hours=1,
            fund_fen=5000 * YUAN,
        )
        federation = world.partner("市慈善总会", categories=["medical"], max_amount_fen=10000 * YUAN)
        serious_illness = {"categories": ["medical"], "programme": "大病救助专项基金"}
        restricted = {"amount_fen": 200000 * YUAN, "reference": "CS-017", "restriction": serious_illness}
        assert world.admin.post(f"/api/v1/partners/{federation['id']}/deposits", json=restricted).status_code == 201
        world.partner(
            "红十字会",
            kind="red_cross",
            adapter="webhook",
            adapter_config={"url": red_cross_system.url, "secret": red_cross_system.secret},
            categories=["medical", "emergency"],
            max_amount_fen=10000 * YUAN,
            respond_within_hours=24,
            fund_fen=100000 * YUAN,
        )
        world.partner("爱心企业", kind="company", categories=["schooling"], fund_fen=80000 * YUAN)
        world.partner("助学基金会", categories=["schooling"], respond_within_hours=72, fund_fen=50000 * YUAN)
        world.partner("青年志愿服务队", kind="volunteer_team", categories=["counselling"], respond_within_hours=24)
        world.partner("阳光社工服务中心", kind="social_org", categories=["counselling"], respond_within_hours=72)

        household = world.household(
            head="李秀英",
            members=[
                {"name": "李秀英", "relation": "head", "id_number": MOTHER_ID, "employment": "self_employed"},
                {"name": "王小军", "relation": "child", "id_number": SON_ID, "conditions": ["leukaemia"]},
                {"name": "王小红", "relation": "child", "birth_date": "2016-04-01", "schooling": "primary"},
                {"name": "王小刚", "relation": "child", "birth_date": "2013-09-15", "schooling": "junior"},
            ],
        )
        # (1) policy first: the caseworker files for medical and education assistance (代办).
        applied = {}
        for policy in ("medical_aid", "education_aid"):
            filed = world.caseworker.post(f"/api/v1/households/{household}/applications", json={"policy": policy})
            assert filed.status_code == 201, filed.get_json()
            applied[policy] = filed.get_json()
        assessed = world.assess(
            household,
            need("emergency", "critical", 700 * YUAN, "母亲陪护在外地医院，家中断了收入"),
            need("medical", "high", 30000 * YUAN, f"王小军（{SON_ID}）急性白血病化疗，自付缺口"),
            need("schooling", "normal", 3000 * YUAN, "两个在读孩子本学期的学杂费和午餐费"),
            need("counselling", "high", description="孩子们和母亲的心理疏导"),
            need("employment", "normal", description="母亲返岗前的临时就业"),
            summary="入户走访：儿子白血病住院，母亲在外地陪护，两个孩子在家。",
        )
        emergency, medical, schooling, counselling, employment = (n["request_id"] for n in assessed["needs"])
        worker()

        # (2) the emergency grant: paid within the same worker run, no human involved.
        grant = world.request(emergency)
        assert grant["status"] == "completed"
        assert grant["disbursed_fen"] == 700 * YUAN
        assert [o["partner"]["name"] for o in grant["offers"]] == ["社区互助基金"]
        humans = {e["actor"] for e in grant["timeline"] if e["event"] != "request.created"}
        assert all(not a.startswith(("caseworker", "partner")) for a in humans), humans
        assert funds.balances(db.session(), fund["id"])["available_fen"] == 4300 * YUAN

        # (3) the medical gap: half is held for medical assistance (applied for, undecided);
        # the rest is split between the Red Cross (fastest) and the charity federation.
        gap = world.request(medical)
        assert [(h["policy"]["code"], h["status"], h["amount_fen"]) for h in gap["policy_holds"]] == [
            ("medical_aid", "held", 15000 * YUAN)
        ]
        assert gap["policy_holds"][0]["application"]["id"] == applied["medical_aid"]["id"]
        assert [(o["partner"]["name"], o["amount_fen"]) for o in gap["offers"]] == [
            ("红十字会", 10000 * YUAN),
            ("市慈善总会", 5000 * YUAN),
        ]
        assert all(
            any(r["code"] == "routing.policy_held_application" for r in o["reason_texts"]) for o in gap["offers"]
        )
        (webhook,) = red_cross_system.events
        assert red_cross_system.rejected == []
        assert webhook["type"] == "offer.created"
        assert SON_ID not in json.dumps(webhook, ensure_ascii=False)
        offer_rc = webhook["offer"]["id"]
        rc = world.partner_clients["红十字会"]
        assert rc.post(f"/api/v1/offers/{offer_rc}/accept", json={}).get_json()["status"] == "accepted"
        paid = rc.client.post(
            f"/api/v1/offers/{offer_rc}/disbursements",
            data={
                "amount_fen": str(10000 * YUAN),
                "kind": "cash",
                "reference": "RC-2026-0042",
                "evidence": (io.BytesIO("医院缴费收据".encode()), "receipt.pdf"),
            },
            headers={"Authorization": f"Bearer {rc.token}"},
            content_type="multipart/form-data",
        )
        assert paid.status_code == 201, paid.get_json()
        (offer_cf,) = world.offers_of("市慈善总会")
        cf = world.partner_clients["市慈善总会"]
        assert cf.post(f"/api/v1/offers/{offer_cf['id']}/accept", json={}).status_code == 200
        for part in (3000 * YUAN, 2000 * YUAN):
            assert (
                cf.post(
                    f"/api/v1/offers/{offer_cf['id']}/disbursements", json={"amount_fen": part, "kind": "cash"}
                ).status_code
                == 201
            )
        worker()
        assert (world.request(medical)["status"], world.request(medical)["disbursed_fen"]) == ("active", 15000 * YUAN)
        # ... and completes when medical assistance is approved: the policy covers the held half.
        approve(world, applied["medical_aid"])
        worker()
        done = world.request(medical)
        assert (done["status"], done["status_reason"], done["policy_covered_fen"]) == (
            "completed",
            "fulfilled_with_policy",
            15000 * YUAN,
        )
        parts = world.admin.get(f"/api/v1/partners/{federation['id']}/funds").get_json()["parts"]
        assert [(p["programme"], p["spent_fen"]) for p in parts] == [("大病救助专项基金", 5000 * YUAN), ("", 0)]

        # (3) schooling: education assistance is expected to pay ¥2,500 of it; the company
        # declines the rest, the education-aid partner takes it; approval completes it.
        (offer_co,) = world.offers_of("爱心企业")
        declined = world.partner_clients["爱心企业"].post(
            f"/api/v1/offers/{offer_co['id']}/reject", json={"reason": "本学期助学名额已满"}
        )
        assert declined.status_code == 200
        worker()
        (offer_edu,) = world.offers_of("助学基金会")
        edu = world.partner_clients["助学基金会"]
        edu.post(f"/api/v1/offers/{offer_edu['id']}/accept", json={})
        assert offer_edu["amount_fen"] == 500 * YUAN
        edu.post(f"/api/v1/offers/{offer_edu['id']}/disbursements", json={"amount_fen": 500 * YUAN, "kind": "cash"})
        worker()
        assert world.request(schooling)["status"] == "active"
        approve(world, applied["education_aid"])
        worker()
        assert world.request(schooling)["status"] == "completed"

        # (3) counselling: the volunteer team never answers; a day later it has expired.
        (offer_vol,) = world.offers_of("青年志愿服务队")
        assert offer_vol["status"] == "received"
        tomorrow = (utcnow() + timedelta(hours=25)).isoformat()
        sweep = queue.queue().enqueue("broker.jobs.reconcile", tomorrow)
        SimpleWorker([queue.queue()], connection=queue.connection()).work(burst=True)
        assert sweep.return_value()["expired"] == 1
        worker()
        assert world.offers_of("青年志愿服务队")[0]["status_reason"] == "expired"
        (offer_sun,) = world.offers_of("阳光社工服务中心")
        sun = world.partner_clients["阳光社工服务中心"]
        sun.post(f"/api/v1/offers/{offer_sun['id']}/accept", json={})
        session_recorded = sun.post(
            f"/api/v1/offers/{offer_sun['id']}/disbursements",
            json={"date": "2026-11-30", "hours": 1.5, "delivered_by": "李老师", "notes": "心理疏导 第1次"},
        )
        assert session_recorded.status_code == 201, session_recorded.get_json()
        assert sun.post(f"/api/v1/offers/{offer_sun['id']}/complete", json={}).status_code == 200
        worker()

    # (4) every request ends completed, or back with its caseworker (unmatched) with reasons.
    finals = {rid: world.request(rid) for rid in (emergency, medical, schooling, counselling, employment)}
    assert {rid: (r["status"], r["routing_state"]) for rid, r in finals.items()} == {
        emergency: ("completed", "covered"),
        medical: ("completed", "covered"),
        schooling: ("completed", "covered"),
        counselling: ("completed", "covered"),
        employment: ("active", "unmatched"),
    }
    assert all(r["status_reason"] for r in finals.values() if r["status"] == "completed")
    # No partner serves job support: the need goes to job matching (openings and courses),
    # not to a dead "category not served", and its caseworker is told so.
    assert {x["code"] for x in finals[employment]["routing_reasons"]["excluded"]} == {"category_not_served"}
    assert finals[employment]["routing_reasons"]["code"] == "job_matching"
    note = db.session().execute(select(Notification).where(Notification.code == "request_job_matching")).scalar_one()
    assert note.params["request_id"] == employment
    matches = world.caseworker.get(f"/api/v1/requests/{employment}/job-matches")
    assert matches.status_code == 200, matches.get_json()
    assert [m["name"] for m in matches.get_json()["members"]] == ["李秀英"]

    # Why this partner, why not those — on the timeline.
    routed = [e for e in finals[medical]["timeline"] if e["event"] == "request.routed"]
    excluded = {e["partner"]: e["reason"] for e in routed[0]["details"]["excluded"]}
    assert excluded["社区互助基金"] == "category not served"
    assert excluded["爱心企业"] == "category not served"
    schooling_rounds = [e["details"] for e in finals[schooling]["timeline"] if e["event"] == "request.routed"]
    assert [c["partner"] for r in schooling_rounds for c in r["chosen"]] == ["爱心企业", "助学基金会"]
    assert {e["partner"]: e["reason"] for e in schooling_rounds[1]["excluded"]}["爱心企业"] == "already asked"

    # (5) the auditor follows every yuan: the family received exactly what the ledger says.
    auditor = as_role("auditor")
    assert auditor.get(f"/api/v1/requests/{medical}").status_code == 200
    beneficiary = db.session().execute(select(Account).where(Account.household_id == household)).scalar_one()
    assert beneficiary.balance_fen == (700 + 15000 + 500) * YUAN  # the policies pay the rest
    assert sum(r["disbursed_fen"] for r in finals.values()) == beneficiary.balance_fen
    for partner in world.partners.values():
        assert funds.balances(db.session(), partner["id"])["pledged_fen"] == 0
    assert audit.verify(db.session()).ok


def test_demo_seed_is_the_model_case(app, worker, client):
    """`seed demo` fills an empty database through the domain; the worker then grants the
    emergency money at once and splits the medical gap; a second seed does nothing but
    list the demo logins."""
    from broker.cli import demo as seed

    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output
    assert "huzhu" in result.output
    assert "caseworker" in result.output
    again = seed.seed_demo_if_empty()
    assert not again.seeded
    assert [(u, r) for u, _, r in again.logins] == seed.demo_usernames(seed.load_demo())
    second = runner.invoke(args=["seed", "demo"]).output
    assert "nothing seeded" in second
    assert "huzhu" in second
    assert seed.DEMO_PASSWORD in second
    worker()
    token = client.post("/api/v1/auth/token", json={"username": "caseworker", "password": seed.DEMO_PASSWORD})
    assert token.status_code == 200
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    listing = client.get("/api/v1/requests?per_page=50", headers=headers).get_json()["items"]
    by_category = {r["category"]: r for r in listing}
    # The model family's four needs, and the embroidery mother's job support (placed: done).
    assert set(by_category) == {"emergency", "medical", "schooling", "counselling", "employment"}
    assert (by_category["employment"]["status"], by_category["employment"]["status_reason"]) == (
        "completed",
        "placed_in_job",
    )
    assert by_category["emergency"]["status"] == "completed"
    medical = client.get(f"/api/v1/requests/{by_category['medical']['id']}", headers=headers).get_json()
    assert [(o["partner"]["name"], o["amount_fen"]) for o in medical["offers"]] == [
        ("区红十字会", 10000 * YUAN),
        ("市慈善总会", 5000 * YUAN),
    ]
    federation = next(o for o in medical["offers"] if o["partner"]["name"] == "市慈善总会")
    assert any("大病救助专项基金" in r["message"] for r in federation["reason_texts"])
    admin = client.post("/api/v1/auth/token", json={"username": "admin", "password": seed.DEMO_PASSWORD})
    parts = client.get(
        f"/api/v1/partners/{federation['partner']['id']}/funds",
        headers={"Authorization": f"Bearer {admin.get_json()['token']}"},
    ).get_json()["parts"]
    assert [(p["categories"], p["deposited_fen"]) for p in parts] == [(["medical"], 500000 * YUAN), ([], 50000 * YUAN)]
    (held,) = medical["policy_holds"]
    assert (held["policy"]["code"], held["amount_fen"], held["application"]["status"]) == (
        "medical_aid",
        15000 * YUAN,
        "documents-gathering",
    )
    schooling = client.get(f"/api/v1/requests/{by_category['schooling']['id']}", headers=headers).get_json()
    assert [(o["partner"]["name"], o["amount_fen"]) for o in schooling["offers"]] == [("春蕾助学基金会", 500 * YUAN)]
    assert [(h["policy"]["code"], h["application"]) for h in schooling["policy_holds"]] == [("education_aid", None)]
    partner = client.post("/api/v1/auth/token", json={"username": "shegong", "password": seed.DEMO_PASSWORD})
    inbox = client.get("/api/v1/offers", headers={"Authorization": f"Bearer {partner.get_json()['token']}"})
    assert [o["category"] for o in inbox.get_json()["items"]] == ["counselling"]
