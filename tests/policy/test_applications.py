"""Applications filed on the family's behalf (代办): one open per policy, the checklist,
the steps and their rules, the benefit on approval, the reminder through RQ's scheduler
and the periodic sweep, scope, and the household's timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq.registry import ScheduledJobRegistry
from rq.scheduler import RQScheduler
from sqlalchemy import select, update

from broker import jobs
from broker.platform import db, outbox_relay, queue
from broker.policy import applications, catalogue, reminders
from models import Application, AuditEvent, HouseholdBenefit, Notification, OutboxMessage, User
from models.base import utcnow
from tests.support.registry_data import make_grids, vendor_family

API = "/api/v1"


@pytest.fixture
def world(as_role):
    """Grids, a caseworker of HD-ZGC-01 and the model-case family recorded by them."""
    admin = as_role("admin")
    make_grids(admin)
    caseworker = as_role("caseworker", grids=("HD-ZGC-01",))
    resp = caseworker.post(f"{API}/households", json=vendor_family())
    assert resp.status_code == 201, resp.get_json()
    return {"admin": admin, "cw": caseworker, "hid": resp.get_json()["id"]}


def file(world, policy: str = "dibao", note: str = "") -> dict:
    resp = world["cw"].post(f"{API}/households/{world['hid']}/applications", json={"policy": policy, "note": note})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def tick_all(world, app: dict) -> dict:
    codes = {d["code"]: True for d in app["documents"]}
    resp = world["cw"].post(f"{API}/applications/{app['id']}/documents", json={"documents": codes})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def step(world, app_id: int, status: str, **extra):
    return world["cw"].post(f"{API}/applications/{app_id}/steps", json={"status": status, **extra})


def test_filing_opens_an_application_with_the_policy_checklist(world):
    """Filing records policy version, department, a first step with actor and note, and every document missing."""
    app = file(world, "dibao", note="家访时户主同意代办")
    policy = catalogue.current().get("dibao")
    assert app["status"] == "documents-gathering"
    assert app["policy"]["version"] == policy.version
    assert app["department"] == "中关村街道办事处"  # dibao is filed with the household's street office
    assert app["missing_documents"] == policy.document_codes()
    assert app["steps"][0]["note"] == "家访时户主同意代办"
    assert app["steps"][0]["data"] == {"qualifies": True}
    assert app["steps"][0]["actor_id"] is not None
    assert app["allowed_next"] == ["submitted", "withdrawn"]
    listed = world["cw"].get(f"{API}/households/{world['hid']}/applications").get_json()
    assert listed["total"] == 1
    assert listed["items"][0]["id"] == app["id"]


def test_one_open_application_per_household_and_policy(world):
    """A second open application for the same policy is a 409 naming the open one; another policy is fine."""
    first = file(world, "dibao")
    resp = world["cw"].post(f"{API}/households/{world['hid']}/applications", json={"policy": "dibao"})
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == "application_open"
    assert resp.get_json()["error"]["details"]["application_id"] == first["id"]
    file(world, "medical_aid")


def test_a_withdrawn_application_can_be_filed_again(world):
    """After withdrawing, a new application for the same policy may be filed."""
    app = file(world)
    assert step(world, app["id"], "withdrawn", note="家庭暂不申请").status_code == 200
    assert file(world)["id"] != app["id"]


def test_unknown_policy_and_bad_bodies_are_422(world):
    """An unknown policy code, or a missing one, is a 422 in the error envelope naming the known codes."""
    resp = world["cw"].post(f"{API}/households/{world['hid']}/applications", json={"policy": "free_money"})
    assert resp.status_code == 422
    assert "dibao" in resp.get_json()["error"]["message"]
    resp = world["cw"].post(f"{API}/households/{world['hid']}/applications", json={})
    assert resp.status_code == 422
    assert "policy" in resp.get_json()["error"]["details"]


def test_cannot_submit_until_every_document_is_ticked(world):
    """Submitting with documents missing is a 422 listing them; ticking an unknown document is a 422 too."""
    app = file(world)
    resp = world["cw"].post(f"{API}/applications/{app['id']}/documents", json={"documents": {"passport": True}})
    assert resp.status_code == 422
    assert "documents.passport" in resp.get_json()["error"]["details"]
    world["cw"].post(f"{API}/applications/{app['id']}/documents", json={"documents": {"application_form": True}})
    resp = step(world, app["id"], "submitted")
    assert resp.status_code == 422
    err = resp.get_json()["error"]
    assert err["code"] == "documents_missing"
    assert err["details"]["missing_documents"] == [c for c in app["missing_documents"] if c != "application_form"]
    assert "income_proof" in err["message"]


def test_illegal_steps_are_409_with_the_current_status(world):
    """A step the lifecycle does not allow is a 409 carrying the current status, and changes nothing."""
    app = file(world)
    resp = step(world, app["id"], "approved")
    assert resp.status_code == 409
    assert resp.get_json()["error"]["details"]["current_status"] == "documents-gathering"
    step(world, app["id"], "withdrawn")
    resp = step(world, app["id"], "submitted")
    assert resp.status_code == 409
    assert resp.get_json()["error"]["details"]["current_status"] == "withdrawn"
    assert world["cw"].get(f"{API}/applications/{app['id']}").get_json()["status"] == "withdrawn"


def test_the_full_path_to_approval_records_the_benefit_and_the_timeline(world):
    """Submit → review → approve: deadline set, steps recorded, benefit granted, all on the household's timeline."""
    app = tick_all(world, file(world))
    submitted = step(world, app["id"], "submitted", note="已递交街道民政科").get_json()
    deadline = submitted["deadline_at"]
    assert deadline is not None
    assert submitted["missing_documents"] == []
    step(world, app["id"], "under-review", note="入户核查")
    approved = step(world, app["id"], "approved", monthly_amount_fen=315000, note="审批通过").get_json()
    assert approved["status"] == "approved"
    assert approved["allowed_next"] == []
    assert [s["status"] for s in approved["steps"]] == [
        "documents-gathering",
        "submitted",
        "under-review",
        "approved",
    ]
    benefit = (
        db.session().execute(select(HouseholdBenefit).where(HouseholdBenefit.household_id == world["hid"])).scalar_one()
    )
    assert (benefit.policy_code, benefit.monthly_amount_fen) == ("dibao", 315000)
    assert benefit.source == f"application:{app['id']}"
    actions = (
        db.session()
        .execute(select(AuditEvent.action).where(AuditEvent.household_id == world["hid"]).order_by(AuditEvent.id))
        .scalars()
        .all()
    )
    assert actions[-6:] == [
        "application.filed",
        "application.documents",
        "application.submitted",
        "application.under-review",
        "benefit.granted",
        "application.approved",
    ]
    package = world["cw"].get(f"{API}/households/{world['hid']}/policy-package").get_json()
    assert {e["policy"]["code"]: e["state"] for e in package["items"]}["dibao"] == "receives"
    resp = world["cw"].post(f"{API}/households/{world['hid']}/applications", json={"policy": "dibao"})
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == "already_receives"


def test_rejection_needs_a_reason_and_dates_are_checked(world):
    """Rejecting needs a note; a step dated in the future or years back is a 422; a late-entered step keeps its date."""
    app = tick_all(world, file(world))
    assert step(world, app["id"], "submitted", at=(utcnow() + timedelta(days=2)).isoformat()).status_code == 422
    assert step(world, app["id"], "submitted", at=(utcnow() - timedelta(days=800)).isoformat()).status_code == 422
    at = (utcnow() - timedelta(days=3)).replace(microsecond=0)
    body = step(world, app["id"], "submitted", at=at.isoformat()).get_json()
    assert body["steps"][-1]["at"].startswith(at.strftime("%Y-%m-%dT%H:%M:%S"))
    policy = catalogue.current().get("dibao")
    assert body["deadline_at"].startswith((at + timedelta(days=policy.review_days)).strftime("%Y-%m-%dT%H:%M"))
    resp = step(world, app["id"], "rejected")
    assert resp.status_code == 422
    assert "note" in resp.get_json()["error"]["details"]
    assert step(world, app["id"], "rejected", note="收入核对超标").get_json()["status"] == "rejected"


def test_submission_schedules_a_reminder_that_notifies_once(world, worker):
    """Submitting writes a reminder due at the deadline, which waits in the table until
    the deadline comes near and is then scheduled on RQ for it; past it, the caseworker is
    notified once (reminded_at)."""
    app = tick_all(world, file(world))
    submitted = step(world, app["id"], "submitted").get_json()
    msg = (
        db.session().execute(select(OutboxMessage).where(OutboxMessage.kind == applications.REMINDER_KIND)).scalar_one()
    )
    assert msg.due_at.isoformat()[:16] == submitted["deadline_at"][:16]
    assert msg.enqueued_at is None, "weeks away: in the table, not in Redis"
    scheduled = ScheduledJobRegistry(queue=queue.queue("default"))
    # The department's deadline comes near (within the relay's horizon), then passes.
    soon = utcnow() + outbox_relay.HORIZON / 2
    db.session().execute(update(OutboxMessage).where(OutboxMessage.id == msg.id).values(due_at=soon))
    db.commit()
    assert outbox_relay.relay(db.session()) == 1
    assert abs((scheduled.get_scheduled_time(f"outbox-{msg.id}") - soon).total_seconds()) < 1
    past = utcnow() - timedelta(minutes=1)
    db.session().execute(update(Application).where(Application.id == app["id"]).values(deadline_at=past))
    db.commit()
    job = queue.queue("default").fetch_job(f"outbox-{msg.id}")
    scheduled.schedule(job, past)
    scheduler = RQScheduler([queue.queue("default")], connection=queue.connection())
    scheduler.acquire_locks()
    scheduler.enqueue_scheduled_jobs()  # what `rq worker --with-scheduler` does each second
    scheduler.release_locks()
    assert queue.queue("default").count == 1
    worker()
    db.session.remove()
    notes = db.session().execute(select(Notification)).scalars().all()
    caseworker = db.session().execute(select(User).where(User.role == "caseworker")).scalar_one()
    assert [(n.user_id, n.code) for n in notes] == [(caseworker.id, "application_overdue")]
    assert notes[0].params["application_id"] == app["id"]
    assert db.session().get(Application, app["id"]).reminded_at is not None
    # Running the reminder again, or the sweep, changes nothing.
    assert reminders.remind_if_overdue(db.session(), app["id"]) is False
    assert jobs.sweep_overdue_applications() == 0
    assert len(db.session().execute(select(Notification)).scalars().all()) == 1
    assert world["cw"].get(f"{API}/applications/{app['id']}").get_json()["overdue"] is True


def test_the_periodic_sweep_catches_a_lost_reminder(world):
    """If the scheduled reminder is lost, the sweep notifies for an application past its deadline — and only once."""
    app = tick_all(world, file(world, "education_aid"))
    step(world, app["id"], "submitted")
    step(world, app["id"], "under-review")
    queue.connection().flushdb()  # the scheduled job is lost
    later = utcnow() + timedelta(days=catalogue.current().get("education_aid").review_days + 1)
    assert reminders.sweep_overdue(db.session(), now=utcnow()) == 0  # not yet due
    assert reminders.sweep_overdue(db.session(), now=later) == 1
    db.commit()
    assert reminders.sweep_overdue(db.session(), now=later) == 0
    notes = db.session().execute(select(Notification)).scalars().all()
    assert len(notes) == 1
    assert notes[0].params["application_id"] == app["id"]
    reminded = (
        db.session()
        .execute(
            select(AuditEvent).where(
                AuditEvent.action == "application.reminded", AuditEvent.household_id == world["hid"]
            )
        )
        .scalars()
        .all()
    )
    assert len(reminded) == 1


def test_applications_are_scoped_by_grid_and_role(world, as_role):
    """Auditors read but cannot file or step; a caseworker of another grid sees 404; partners are refused."""
    app = file(world)
    auditor = as_role("auditor")
    assert auditor.get(f"{API}/applications/{app['id']}").status_code == 200
    assert auditor.get(f"{API}/households/{world['hid']}/applications").status_code == 200
    assert auditor.post(f"{API}/households/{world['hid']}/applications", json={"policy": "tekun"}).status_code == 403
    assert auditor.post(f"{API}/applications/{app['id']}/steps", json={"status": "withdrawn"}).status_code == 403
    other = as_role("caseworker", grids=("HD-ZGC-02",))
    assert other.get(f"{API}/applications/{app['id']}").status_code == 404
    assert other.post(f"{API}/applications/{app['id']}/steps", json={"status": "withdrawn"}).status_code == 404
    assert other.post(f"{API}/households/{world['hid']}/applications", json={"policy": "tekun"}).status_code == 404
    assert world["cw"].get(f"{API}/applications/424242").status_code == 404


def test_ticking_is_closed_after_submission(world):
    """Once submitted, the checklist is closed: ticking is a 409 with the current status."""
    app = tick_all(world, file(world))
    step(world, app["id"], "submitted")
    resp = world["cw"].post(f"{API}/applications/{app['id']}/documents", json={"documents": {"income_proof": False}})
    assert resp.status_code == 409
    assert resp.get_json()["error"]["details"]["current_status"] == "submitted"
