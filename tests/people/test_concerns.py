"""The family's voice over the API: anyone files a concern without a token and looks it
up by its reference (state and dates, nothing personal); those who answer it see it by
scope, answer it before its deadline or have it escalated to the auditors after it
(once, however often the job runs); hostile input is a 4xx in the envelope; the public
door is rate limited per address; the report compares with the previous period."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from broker import jobs
from broker.people import concern_deadlines, concerns
from broker.platform import db
from models import AuditEvent, Concern, Notification, User
from models.base import utcnow
from tests.support.aid import fire_scheduled, make_world
from tests.support.voice import past_deadline

API = "/api/v1"
SECRET_TEXT = "邻居说补助没发到手，户主身份证110108197904121314，电话13800138000"


def _file(anon, **body) -> dict:
    resp = anon.post(f"{API}/concerns", json={"kind": "complaint", "description": "补助迟迟未到", **body})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _count(model, *where) -> int:
    n = db.session().execute(select(func.count()).select_from(model).where(*where)).scalar_one()
    db.session.remove()
    return n


def test_anyone_files_a_concern_and_the_status_page_shows_no_personal_data(anon):
    """A concern filed without a token returns only its reference; looking it up without
    a token shows the reference, state and dates — not the description, phone or kind."""
    ref = _file(anon, description=SECRET_TEXT, contact_phone="138 0013 8000")["reference"]
    assert ref.startswith("YJ-")
    assert len(ref) == 12
    resp = anon.get(f"{API}/concerns/{ref.lower().replace('-', ' ')}")
    assert resp.status_code == 200, resp.get_json()
    status = resp.get_json()
    assert set(status) == {"reference", "state", "received_at", "deadline_at", "closed_at"}
    assert status["reference"] == ref
    assert status["state"] == "open"
    assert status["closed_at"] is None
    text = resp.get_data(as_text=True)
    assert "110108" not in text
    assert "13800138000" not in text
    assert "补助" not in text
    assert anon.get(f"{API}/concerns/YJ-0000-0000").status_code == 404
    assert anon.get(f"{API}/concerns/{'x' * 5000}").status_code == 404


def test_the_same_form_sent_twice_files_one_concern(anon):
    """A retry with the same client_key gets the first reference back (200) and files nothing more."""
    first = anon.post(f"{API}/concerns", json={"kind": "other", "description": "咨询", "client_key": "k-1"})
    again = anon.post(f"{API}/concerns", json={"kind": "other", "description": "咨询", "client_key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json() == again.get_json()
    assert _count(Concern) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "complaint", "description": "坏\ud800字"}, "description"),
        ({"kind": "complaint", "description": "空\x00字"}, "description"),
        ({"kind": "complaint", "description": "长" * 5000}, "description"),
        ({"kind": "complaint", "description": ""}, "description"),
        ({"kind": "nonsense", "description": "x"}, "kind"),
        ({"kind": "complaint", "description": "x", "contact_phone": "call me maybe"}, "contact_phone"),
        ({"kind": "complaint", "description": "x", "household": 1}, "household"),
        ({"kind": "complaint", "description": "x", "owner": 1}, "owner"),
    ],
)
def test_hostile_input_is_refused_with_the_field_named(client, body, field):
    """Lone surrogates, NUL, huge text, unknown kinds and fields, a phone that is none, a
    household named by the public: a 4xx in the envelope, nothing filed."""
    raw = json.dumps(body)  # escapes the lone surrogate as \\ud800, as a hostile client would
    resp = client.post(f"{API}/concerns", data=raw, content_type="application/json")
    assert resp.status_code in (403, 422), resp.get_data(as_text=True)
    error = resp.get_json()["error"]
    assert {"code", "message", "details"} <= set(error)
    if resp.status_code == 422:
        assert field in json.dumps(error["details"]), error
    assert _count(Concern) == 0


def test_hotline_concerns_belong_to_the_caseworker_and_are_read_by_scope(as_role, make_user, login):
    """A caseworker records a hotline concern about a household and a partner: it is theirs;
    another grid's caseworker does not see it; the partner sees its own without the ID
    number, the phone in the text or the caller's phone; the auditor sees all, and
    neither partner nor auditor may answer it."""
    world = make_world(as_role, make_user, login)
    hid = world.household(head="王秀英")
    partner = world.partner("区慈善总会", categories=["living"])
    resp = world.caseworker.post(
        f"{API}/concerns",
        json={
            "kind": "not_received",
            "description": SECRET_TEXT,
            "contact_phone": "13900139000",
            "household": hid,
            "partner": partner["id"],
        },
    )
    assert resp.status_code == 201, resp.get_json()
    ref = resp.get_json()["reference"]
    mine = world.caseworker.get(f"{API}/concerns").get_json()["items"]
    assert [c["reference"] for c in mine] == [ref]
    assert mine[0]["source"] == "hotline"
    assert mine[0]["contact_phone"] == "13900139000"
    assert mine[0]["household_id"] == hid
    assert mine[0]["owner_id"] is not None

    other = as_role("caseworker")
    assert other.get(f"{API}/concerns").get_json()["total"] == 0
    assert other.post(f"{API}/concerns/{ref}/answer", json={"answer": "好"}).status_code == 404

    seen = world.partner_clients["区慈善总会"].get(f"{API}/concerns").get_json()["items"]
    assert len(seen) == 1
    text = json.dumps(seen, ensure_ascii=False)
    assert "110108197904121314" not in text
    assert "13800138000" not in text
    assert "13900139000" not in text
    assert seen[0]["contact_phone"] is None
    assert seen[0]["household_id"] is None
    assert (
        world.partner_clients["区慈善总会"].post(f"{API}/concerns/{ref}/answer", json={"answer": "x"}).status_code
        == 403
    )

    auditor = as_role("auditor")
    assert auditor.get(f"{API}/concerns").get_json()["total"] == 1
    assert auditor.post(f"{API}/concerns/{ref}/answer", json={"answer": "x"}).status_code == 403
    assert (
        as_role("partner", partner_id=partner["id"])
        .post(f"{API}/concerns", json={"kind": "other", "description": "x"})
        .status_code
        == 403
    )


def test_answered_before_the_deadline_closes_once_and_is_audited(as_role, make_user, login, anon):
    """A public concern naming the community goes to its caseworker, who answers it: it
    is closed within its deadline, the public status says so, the same answer again
    changes nothing, another answer is a 409; filing and closing are in the audit log."""
    world = make_world(as_role, make_user, login)
    ref = _file(anon, community="科源社区")["reference"]
    listed = world.caseworker.get(f"{API}/concerns?state=open").get_json()["items"]
    assert [c["reference"] for c in listed] == [ref]
    resp = world.caseworker.post(f"{API}/concerns/{ref}/answer", json={"answer": "已核实，补助本周发放。"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["state"] == "closed"
    again = world.caseworker.post(f"{API}/concerns/{ref}/answer", json={"answer": "已核实，补助本周发放。"})
    assert again.status_code == 200
    other = world.caseworker.post(f"{API}/concerns/{ref}/answer", json={"answer": "改口"})
    assert other.status_code == 409
    assert other.get_json()["error"]["details"]["current_status"] == "closed"
    status = anon.get(f"{API}/concerns/{ref}").get_json()
    assert status["state"] == "closed"
    assert status["closed_at"] <= status["deadline_at"]
    actions = [a for (a,) in db.session().execute(select(AuditEvent.action).order_by(AuditEvent.id)).all()]
    db.session.remove()
    assert actions.count("concern.filed") == 1
    assert actions.count("concern.closed") == 1


def test_an_unanswered_concern_is_escalated_once_however_often_the_job_runs(as_role, make_user, login, anon, worker):
    """Past its deadline, the scheduled job and the periodic sweep, run again and again,
    escalate the concern once: one audit event, one notification per auditor and owner;
    the public status says it was passed on; it can still be answered."""
    world = make_world(as_role, make_user, login)
    auditor_name = make_user("auditor")
    ref = _file(anon, community="科源社区", kind="not_received")["reference"]
    worker()
    assert _count(Concern, Concern.state == "escalated") == 0  # the deadline is days away
    past_deadline(ref)
    fire_scheduled(concerns.ESCALATE_KIND)
    worker()
    for _ in range(2):
        assert jobs.sweep_overdue_concerns() == 0
        assert concern_deadlines.sweep_overdue(db.session()) == 0
        db.session.remove()
    assert anon.get(f"{API}/concerns/{ref}").get_json()["state"] == "escalated"
    assert _count(AuditEvent, AuditEvent.action == "concern.escalated") == 1
    assert _count(Notification, Notification.code == "concern_escalated") == 2  # the auditor and the owner
    auditor = login(auditor_name)
    notes = auditor.get(f"{API}/notifications").get_json()["items"]
    assert [n["code"] for n in notes] == ["concern_escalated"]
    assert ref in notes[0]["message"]
    assert auditor.get(f"{API}/concerns?overdue=true").get_json()["total"] == 1
    late = world.caseworker.post(f"{API}/concerns/{ref}/answer", json={"answer": "已补发"})
    assert late.status_code == 200
    assert late.get_json()["escalated_at"] is not None


def test_the_sweep_escalates_what_the_scheduled_job_missed(anon):
    """With the scheduled job lost, the periodic sweep escalates an overdue concern, once."""
    ref = _file(anon)["reference"]
    past_deadline(ref)
    assert jobs.sweep_overdue_concerns() == 1
    assert jobs.sweep_overdue_concerns() == 0
    assert _count(Concern, Concern.state == "escalated") == 1


def test_an_admin_assigns_a_concern_that_names_nothing(as_role, make_user, login, anon):
    """A public concern naming no community has no owner until an admin gives it to a
    caseworker, who then sees it; assigning a non-caseworker is a 422."""
    world = make_world(as_role, make_user, login)
    ref = _file(anon)["reference"]
    assert world.caseworker.get(f"{API}/concerns").get_json()["total"] == 0
    caseworker_id = db.session().execute(select(User.id).where(User.role == "caseworker")).scalar_one()
    admin_id = db.session().execute(select(User.id).where(User.role == "admin")).scalars().first()
    db.session.remove()
    bad = world.admin.post(f"{API}/concerns/{ref}/assign", json={"owner": admin_id})
    assert bad.status_code == 422
    assert bad.get_json()["error"]["code"] == "not_a_caseworker"
    ok = world.admin.post(f"{API}/concerns/{ref}/assign", json={"owner": caseworker_id})
    assert ok.status_code == 200
    assert ok.get_json()["owner_id"] == caseworker_id
    assert world.caseworker.get(f"{API}/concerns").get_json()["total"] == 1


@pytest.fixture
def rate_limited(app) -> Iterator[None]:
    """Rate limiting on, at two concerns and three look-ups a minute per address."""
    keys = ("RATELIMIT_ENABLED", "CONCERN_RATE_LIMIT", "CONCERN_LOOKUP_RATE_LIMIT")
    saved = {k: app.config.get(k) for k in keys}
    app.config.update(
        RATELIMIT_ENABLED=True, CONCERN_RATE_LIMIT="2 per minute", CONCERN_LOOKUP_RATE_LIMIT="3 per minute"
    )
    try:
        yield
    finally:
        app.config.update(saved)


def test_the_public_door_is_rate_limited_per_address(rate_limited, app):
    """From one address the third concern in a minute and the fourth look-up are a 429 in
    the envelope; another address is not held back."""
    one = app.test_client()
    one.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    body = {"kind": "other", "description": "咨询"}
    refs = [one.post(f"{API}/concerns", json=body).get_json()["reference"] for _ in range(2)]
    third = one.post(f"{API}/concerns", json=body)
    assert third.status_code == 429
    assert third.get_json()["error"]["code"] == "rate_limited"
    for _ in range(3):
        assert one.get(f"{API}/concerns/{refs[0]}").status_code == 200
    assert one.get(f"{API}/concerns/{refs[0]}").status_code == 429
    two = app.test_client()
    two.environ_base["REMOTE_ADDR"] = "198.51.100.8"
    assert two.post(f"{API}/concerns", json=body).status_code == 201


def test_the_report_counts_by_kind_against_the_previous_period(as_role, make_user, login, anon):
    """Concerns received this period and the one before, by kind: closed, on time,
    escalated, median days to close; how much faster than before; and the CSV/XLSX export."""
    world = make_world(as_role, make_user, login)
    now = utcnow()
    session = db.session()
    for days_ago, took, kind in ((3, 1, "complaint"), (5, 3, "complaint"), (40, 4, "complaint"), (45, 6, "other")):
        at = now - timedelta(days=days_ago)
        filed = concerns.file_concern(session, kind=kind, description="测", community="科源社区", now=at)
        filed.concern.state, filed.concern.closed_at = "closed", at + timedelta(days=took)
    concerns.file_concern(session, kind="not_received", description="测", now=now - timedelta(days=1))
    db.commit()
    db.session.remove()
    auditor = as_role("auditor")
    report = auditor.get(f"{API}/reports/concerns").get_json()
    current, previous = report["current"], report["previous"]
    assert current["overall"]["received"] == 3
    assert current["overall"]["closed"] == 2
    assert {r["kind"]: r["received"] for r in current["rows"]} == {"complaint": 2, "not_received": 1}
    assert current["overall"]["median_days"] == pytest.approx(2.0)
    assert previous["overall"]["received"] == 2
    assert previous["overall"]["median_days"] == pytest.approx(5.0)
    assert report["faster_percent"] == pytest.approx(60.0)
    csv = auditor.get(f"{API}/reports/concerns?format=csv")
    assert csv.status_code == 200
    assert csv.mimetype == "text/csv"
    assert "投诉" in csv.get_data(as_text=True)
    assert auditor.get(f"{API}/reports/concerns?format=xlsx").status_code == 200
    assert world.caseworker.get(f"{API}/reports/concerns").status_code == 403
    assert auditor.get(f"{API}/reports/concerns?from=2026-02-01&to=2026-01-01").status_code == 422
