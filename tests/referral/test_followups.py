"""Follow-up visits (回访): completing a request schedules one visit to the family on RQ's
scheduler (with the reconciler as backstop), the caseworkers are told when it falls due,
and the caseworker records it — with a new need starting a new assessment in one step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select, update

from broker.platform import db, outbox_relay, periods, queue, runtime
from broker.referral import followups, lifecycle, reconcile
from models import Assessment, AuditEvent, FollowUp, Notification, OutboxMessage
from models.base import utcnow
from tests.platform.test_skeleton import assert_error_shape
from tests.support.aid import YUAN, make_world, need
from tests.support.receivers import SmsGateway
from tests.support.voice import agree

API = "/api/v1"


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def completed_request(world, worker, category: str = "emergency", amount_fen: int = 700 * YUAN) -> tuple[int, int]:
    """A household whose need a partner accepted and paid in full: (household, request)."""
    if "互助基金" not in world.partners:
        world.partner(
            "互助基金",
            categories=["emergency", "medical", "schooling", "living"],
            fund_fen=100_000 * YUAN,
        )
    household = world.household()
    rid = world.assess(household, need(category, "high", amount_fen))["needs"][0]["request_id"]
    worker()
    client = world.partner_clients["互助基金"]
    (offer,) = [o for o in world.offers_of("互助基金") if o["request_id"] == rid]
    assert client.post(f"{API}/offers/{offer['id']}/accept", json={}).status_code == 200
    paid = client.post(f"{API}/offers/{offer['id']}/disbursements", json={"amount_fen": amount_fen, "kind": "cash"})
    assert paid.status_code == 201, paid.get_json()
    assert world.request(rid)["status"] == "completed"
    return household, rid


def follow_up_of(rid: int) -> FollowUp:
    found = db.session().execute(select(FollowUp).where(FollowUp.request_id == rid)).scalar_one()
    db.session.remove()
    return found


def move_due(follow_up_id: int, to: datetime) -> None:
    """The visit's day comes: move it (and its outbox row) to ``to``."""
    db.session().execute(update(FollowUp).where(FollowUp.id == follow_up_id).values(due_at=to))
    rows = select(OutboxMessage.id).where(OutboxMessage.kind == followups.DUE_KIND)
    db.session().execute(update(OutboxMessage).where(OutboxMessage.id.in_(rows)).values(due_at=to))
    db.commit()


def test_completion_schedules_a_visit_on_rqs_scheduler_and_a_worker_with_scheduler_marks_it_due(world, worker):
    """An emergency request completed: a follow-up 7 days on, its outbox row due then,
    waiting in the table; as the day comes near, the periodic relay puts its job in RQ's
    scheduled registry at that time; when the time comes, a worker run with its scheduler
    marks the visit due and the caseworker gets a `follow_up_due` notification."""
    household, rid = completed_request(world, worker)
    fu = follow_up_of(rid)
    completed_at = world.request(rid)["completed_at"]
    assert fu.status == "scheduled"
    assert fu.household_id == household
    assert fu.category == "emergency"
    assert fu.due_at - datetime.fromisoformat(completed_at) == timedelta(days=7)
    msg = db.session().execute(select(OutboxMessage).where(OutboxMessage.kind == followups.DUE_KIND)).scalar_one()
    registry = ScheduledJobRegistry(queue=queue.queue("default"))
    job_id = f"outbox-{msg.id}"
    assert msg.enqueued_at is None, "a week away: in the table, not in Redis"
    assert job_id not in registry.get_job_ids()
    # The week passes: the visit is half a minute away, within the relay's horizon.
    soon = (utcnow() + outbox_relay.HORIZON / 2).replace(microsecond=0)
    move_due(fu.id, soon)
    assert outbox_relay.relay(db.session()) == 1
    assert job_id in registry.get_job_ids()
    assert abs((registry.get_scheduled_time(job_id) - soon).total_seconds()) < 1
    # The day comes: the visit and its scheduled job are moved to just past.
    past = utcnow() - timedelta(minutes=1)
    move_due(fu.id, past)
    registry.schedule(queue.queue("default").fetch_job(job_id), past)
    SimpleWorker([queue.queue(n) for n in queue.QUEUES], connection=queue.connection()).work(
        burst=True, with_scheduler=True
    )
    db.session.remove()
    assert follow_up_of(rid).status == "due"
    notes = db.session().execute(select(Notification).where(Notification.code == "follow_up_due")).scalars().all()
    assert len(notes) == 1
    assert notes[0].params["follow_up_id"] == fu.id
    assert notes[0].params["household_id"] == household


def test_the_reconciler_marks_a_visit_due_whose_job_was_lost(world, worker):
    """With the scheduled job gone (Redis flushed), the periodic pass finds the visit whose
    day has come, marks it due and tells the caseworker once; a second pass does nothing."""
    _household, rid = completed_request(world, worker, "medical", 3000 * YUAN)
    fu = follow_up_of(rid)
    assert fu.due_at - fu.created_at > timedelta(days=29)  # medical: 30 days
    queue.connection().flushdb()
    result = reconcile.sweep(db.session(), now=fu.due_at + timedelta(seconds=1))
    db.commit()
    assert result.follow_ups_due == 1
    assert follow_up_of(rid).status == "due"
    again = reconcile.sweep(db.session(), now=fu.due_at + timedelta(hours=1))
    db.commit()
    assert again.follow_ups_due == 0
    notes = db.session().execute(select(Notification).where(Notification.code == "follow_up_due")).scalars().all()
    assert len(notes) == 1


def test_a_due_job_run_early_puts_itself_back(world, worker):
    """Run before the visit's day, the job leaves the visit scheduled and writes itself
    again for the day."""
    _household, rid = completed_request(world, worker)
    fu = follow_up_of(rid)
    followups._due_job(db.session(), {"follow_up_id": fu.id})
    db.commit()
    assert follow_up_of(rid).status == "scheduled"
    rows = db.session().execute(select(OutboxMessage).where(OutboxMessage.kind == followups.DUE_KIND)).scalars().all()
    assert len(rows) == 2
    assert all(r.due_at == fu.due_at for r in rows)


def test_completion_processed_twice_gives_one_follow_up(world, worker):
    """Scheduling again for a completed request (a completion handled twice) adds no
    second visit, audit event or job."""
    _household, rid = completed_request(world, worker)
    session = db.session()
    req = lifecycle.lock_request(session, rid)
    assert followups.schedule(session, req) is None
    assert lifecycle.settle(session, req) == "nothing"
    db.commit()
    assert len(db.session().execute(select(FollowUp).where(FollowUp.request_id == rid)).scalars().all()) == 1
    scheduled = db.session().execute(select(AuditEvent).where(AuditEvent.action == "follow_up.scheduled")).scalars()
    assert len(scheduled.all()) == 1


def test_a_caseworker_confirming_completion_schedules_a_visit_too(world, worker):
    """A request completed by its caseworker (not by payment) gets its visit as well."""
    world.partner("社工站", kind="social_org", categories=["counselling"])
    household = world.household()
    rid = world.assess(household, need("counselling"))["needs"][0]["request_id"]
    worker()
    (offer,) = world.offers_of("社工站")
    assert world.partner_clients["社工站"].post(f"{API}/offers/{offer['id']}/accept", json={}).status_code == 200
    done = world.caseworker.post(f"{API}/requests/{rid}/complete", json={"note": "已开始辅导"})
    assert done.status_code == 200, done.get_json()
    fu = follow_up_of(rid)
    assert fu.due_at - datetime.fromisoformat(done.get_json()["completed_at"]) == timedelta(days=14)


def test_schooling_is_followed_up_when_the_next_term_starts(app):
    """Schooling needs fall due at local midnight of 1 March or 1 September, whichever comes next."""
    with app.app_context():
        in_june = datetime(2026, 6, 10, 4, tzinfo=UTC)
        assert followups.due_date("schooling", in_june) == datetime(2026, 8, 31, 16, tzinfo=UTC)
        in_october = datetime(2026, 10, 1, tzinfo=UTC)
        assert followups.due_date("schooling", in_october) == datetime(2027, 2, 28, 16, tzinfo=UTC)
        assert followups.due_date("emergency", in_june) == in_june + timedelta(days=7)
        assert followups.due_date("unheard_of", in_june) == in_june + timedelta(days=followups.DEFAULT_DAYS)


def test_recording_a_visit_need_met_and_satisfaction(world, worker):
    """The caseworker records "need met, 5": the visit reads recorded, with who and when,
    audited; recording it again is a 409; the list shows it."""
    household, rid = completed_request(world, worker)
    fu = follow_up_of(rid)
    path = f"{API}/households/{household}/follow-ups"
    listed = world.caseworker.get(path).get_json()["items"]
    assert [(f["id"], f["status"], f["overdue"]) for f in listed] == [(fu.id, "scheduled", False)]
    resp = world.caseworker.post(f"{path}/{fu.id}", json={"need_met": "yes", "satisfaction": 5, "notes": "药费已到位"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["status"], body["need_met"], body["satisfaction"], body["new_assessment_id"]) == (
        "recorded",
        "yes",
        5,
        None,
    )
    again = world.caseworker.post(f"{path}/{fu.id}", json={"need_met": "no", "satisfaction": 1})
    assert assert_error_shape(again, 409)["code"] == "follow_up_recorded"
    assert follow_up_of(rid).satisfaction == 5
    event = db.session().execute(select(AuditEvent).where(AuditEvent.action == "follow_up.recorded")).scalar_one()
    assert event.household_id == household
    assert event.request_id == rid


def test_a_new_need_starts_a_new_assessment_in_the_same_step(world, worker):
    """A visit that finds a new need records it as a new assessment whose request is routed."""
    household, rid = completed_request(world, worker)
    fu = follow_up_of(rid)
    resp = world.caseworker.post(
        f"{API}/households/{household}/follow-ups/{fu.id}",
        json={
            "need_met": "partly",
            "satisfaction": 4,
            "notes": "孩子下学期学费还没有着落",
            "new_need": {"category": "schooling", "urgency": "normal", "amount_fen": 1500 * YUAN},
        },
    )
    assert resp.status_code == 200, resp.get_json()
    new_id = resp.get_json()["new_assessment_id"]
    assessments = world.caseworker.get(f"{API}/households/{household}/assessments").get_json()["items"]
    newest = assessments[0]
    assert newest["id"] == new_id
    assert newest["summary"] == "孩子下学期学费还没有着落"
    assert [(n["category"], n["amount_fen"], n["request_status"]) for n in newest["needs"]] == [
        ("schooling", 1500 * YUAN, "active")
    ]
    assert db.session().get(Assessment, new_id).household_id == household


def test_bad_input_is_a_422_naming_the_field(world, worker):
    """Satisfaction outside 1–5, an unknown need_met, or a malformed new need are refused
    at the edge, naming the field; nothing is recorded."""
    household, rid = completed_request(world, worker)
    fu = follow_up_of(rid)
    path = f"{API}/households/{household}/follow-ups/{fu.id}"
    for body, field in (
        ({"need_met": "yes", "satisfaction": 6}, "satisfaction"),
        ({"need_met": "maybe", "satisfaction": 3}, "need_met"),
        ({"need_met": "yes", "satisfaction": "5"}, "satisfaction"),
        ({"need_met": "yes", "satisfaction": 3, "new_need": {"category": "medical", "urgency": "high"}}, "new_need"),
        ({"need_met": "yes", "satisfaction": 3, "notes": "\ud800"}, "notes"),
    ):
        err = assert_error_shape(world.caseworker.post(path, json=body), 422)
        assert field in str(err["details"]), (body, err)
    assert follow_up_of(rid).status == "scheduled"


def test_scope_other_caseworkers_partners_and_auditors(world, worker, as_role, make_user, login):
    """Another grid's caseworker sees no such household; a partner is refused; an auditor
    and an admin read but do not record; a visit of another household is not found."""
    household, rid = completed_request(world, worker)
    other_household, other_rid = completed_request(world, worker)
    fu = follow_up_of(rid)
    path = f"{API}/households/{household}/follow-ups"
    body = {"need_met": "yes", "satisfaction": 5}
    stranger = as_role("caseworker")
    assert stranger.get(path).status_code == 404
    assert stranger.post(f"{path}/{fu.id}", json=body).status_code == 404
    partner = world.partner_clients["互助基金"]
    assert partner.get(path).status_code == 403
    for role in ("auditor", "admin"):
        reader = as_role(role)
        assert reader.get(path).status_code == 200
        assert reader.post(f"{path}/{fu.id}", json=body).status_code == 403
    wrong = world.caseworker.post(f"{API}/households/{other_household}/follow-ups/{fu.id}", json=body)
    assert wrong.status_code == 404
    assert follow_up_of(rid).status == "scheduled"
    assert follow_up_of(other_rid).status == "scheduled"


def _principal(client):
    from broker.people import users

    return users.principal_for_token(db.session(), client.token)


def test_overdue_visits_are_listed_for_the_caseworkers_grids(world, worker, make_user, login):
    """A visit past its day and not recorded is overdue: so marked in its household's list,
    in the caseworker's overdue list and their grid's count — not in another caseworker's."""
    from broker.referral import followup_visits

    household, rid = completed_request(world, worker)
    _other, later = completed_request(world, worker)
    fu = follow_up_of(rid)
    move_due(fu.id, utcnow() - timedelta(days=2))
    listed = world.caseworker.get(f"{API}/households/{household}/follow-ups").get_json()["items"]
    assert listed[0]["overdue"] is True
    mine = _principal(world.caseworker)
    assert [(f.id, h.id) for f, h in followup_visits.overdue(db.session(), mine)] == [(fu.id, household)]
    assert followup_visits.overdue_by_grid(db.session(), mine) == {world.grid: 1}
    stranger = _principal(login(make_user("caseworker", grids=())))
    assert followup_visits.overdue(db.session(), stranger) == []
    assert followup_visits.overdue_by_grid(db.session(), stranger) == {}
    assert follow_up_of(later).status == "scheduled"


def test_a_completed_request_entered_in_error_drops_its_visit(world, worker):
    """Marked as entered in error after completing (nothing paid), the request's visit is
    dropped — audited on its timeline — and its job, when it runs, finds nothing to do."""
    world.partner("社工站", kind="social_org", categories=["counselling"])
    household = world.household()
    rid = world.assess(household, need("counselling"))["needs"][0]["request_id"]
    worker()
    (offer,) = world.offers_of("社工站")
    assert world.partner_clients["社工站"].post(f"{API}/offers/{offer['id']}/accept", json={}).status_code == 200
    assert world.caseworker.post(f"{API}/requests/{rid}/complete", json={}).status_code == 200
    fu = follow_up_of(rid)
    wrong = world.caseworker.post(f"{API}/requests/{rid}/entered-in-error", json={"note": "录重了"})
    assert wrong.status_code == 200, wrong.get_json()
    assert db.session().execute(select(FollowUp).where(FollowUp.request_id == rid)).scalar_one_or_none() is None
    assert world.request(rid)["timeline"][-1]["event"] == "follow_up.cancelled"
    assert followups.mark_due(db.session(), fu.id, now=fu.due_at + timedelta(days=1)) == "done"
    assert world.caseworker.get(f"{API}/households/{household}/follow-ups").get_json()["items"] == []


def test_a_family_that_agreed_to_messages_is_told_the_visit_is_due(world, worker, monkeypatch):
    """When the visit falls due, a family that agreed to text messages gets one SMS in
    Chinese at the local gateway (a real RQ worker sends it), with the day and no ID number
    or amount; a second pass sends nothing more."""
    household, rid = completed_request(world, worker, "emergency", 700 * YUAN)
    agree(world.caseworker, household, "sms")
    world.caseworker.patch(f"/api/v1/households/{household}", json={"phone": "13800138000"})
    fu = follow_up_of(rid)
    with SmsGateway() as sms:
        monkeypatch.setitem(runtime.settings(), "SMS_GATEWAY_URL", sms.url)
        monkeypatch.setitem(runtime.settings(), "NOTIFY_TIMEOUT_SECONDS", 5.0)
        for _ in range(2):
            reconcile.sweep(db.session(), now=fu.due_at + timedelta(seconds=1))
            db.commit()
            worker()
        visits = [m["message"] for m in sms.sent if "回访" in m["message"]]  # the grant's SMS is there too
    assert len(visits) == 1, sms.sent
    message = visits[0]
    assert periods.to_local(fu.due_at).date().isoformat() in message
    assert "¥" not in message
