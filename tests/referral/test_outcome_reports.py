"""The reports on how the loop closes: response time per partner (hours to the first
answer and to fulfilment, from the offers' timestamps) and follow-up outcomes (share of
needs met, mean satisfaction), each against the previous period of the same length, with
the change said so that positive is better; in JSON, CSV and XLSX."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from broker.platform import db
from broker.referral import outcome_reports
from models import FollowUp, Offer
from tests.platform.test_skeleton import assert_error_shape
from tests.referral.test_followups import completed_request, follow_up_of
from tests.support.aid import make_world, need

API = "/api/v1"
NOVEMBER = "from=2026-11-01&to=2026-11-30"


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def at(day: date, hours: float = 0) -> datetime:
    return datetime(day.year, day.month, day.day, 2, tzinfo=UTC) + timedelta(hours=hours)


def stamp(offer_id: int, created: datetime, answered: float | None = None, completed: float | None = None) -> None:
    """Put an offer's moments where the test needs them (hours after ``created``)."""
    values = {
        "created_at": created,
        "answered_at": None if answered is None else created + timedelta(hours=answered),
        "completed_at": None if completed is None else created + timedelta(hours=completed),
    }
    db.session().execute(update(Offer).where(Offer.id == offer_id).values(**values))
    db.commit()


def test_the_previous_period_has_the_same_length_just_before():
    """30 days by default ending today; a given period's predecessor ends the day before it starts."""
    current, previous = outcome_reports.periods_of(None, None, today=date(2026, 12, 2))
    assert (current.date_from, current.date_to, current.days) == (date(2026, 11, 3), date(2026, 12, 2), 30)
    assert (previous.date_from, previous.date_to) == (date(2026, 10, 4), date(2026, 11, 2))
    current, previous = outcome_reports.periods_of(date(2026, 11, 1), date(2026, 11, 7))
    assert (previous.date_from, previous.date_to) == (date(2026, 10, 25), date(2026, 10, 31))


def test_response_time_per_partner_against_the_previous_period(world, worker):
    """Answers (accepted or declined) and fulfilments are timed per partner; an offer not
    answered counts as asked only; the median hours to answer fell from 6 to 2: an
    improvement of 66.7 %, and to fulfil from 40 to 20: 50 %."""
    world.partner("社工站", kind="social_org", categories=["counselling"])
    world.partner("就业服务站", kind="social_org", categories=["employment"])
    household = world.household()
    world.assess(household, *(need("counselling", description=f"心理疏导{i}") for i in range(3)))
    world.assess(household, *(need("employment", description=f"就业{i}") for i in range(2)))
    worker()
    a1, a2, a3 = (o["id"] for o in sorted(world.offers_of("社工站"), key=lambda o: o["id"]))
    b4, b5 = (o["id"] for o in sorted(world.offers_of("就业服务站"), key=lambda o: o["id"]))
    social, jobs = world.partner_clients["社工站"], world.partner_clients["就业服务站"]
    for oid in (a1, a2):
        assert social.post(f"{API}/offers/{oid}/accept", json={}).status_code == 200
        assert social.post(f"{API}/offers/{oid}/complete", json={"note": "辅导完成"}).status_code == 200
    assert social.post(f"{API}/offers/{a3}/reject", json={"reason": "人手不足"}).status_code == 200
    assert jobs.post(f"{API}/offers/{b4}/accept", json={}).status_code == 200
    stamp(a1, at(date(2026, 11, 10)), answered=2, completed=20)
    stamp(a2, at(date(2026, 10, 10)), answered=6, completed=40)
    stamp(a3, at(date(2026, 11, 12)), answered=4)
    stamp(b4, at(date(2026, 11, 15)), answered=1)
    stamp(b5, at(date(2026, 11, 16)))

    body = world.admin.get(f"{API}/reports/response-times?{NOVEMBER}").get_json()
    assert body["period"] == {"from": "2026-11-01", "to": "2026-11-30", "days": 30}
    assert body["previous_period"] == {"from": "2026-10-02", "to": "2026-10-31", "days": 30}
    rows = {r["partner"]: r for r in body["current"]["rows"]}
    assert {k: rows["社工站"][k] for k in ("offers", "answered", "median_answer_hours", "completed")} == {
        "offers": 2,
        "answered": 2,
        "median_answer_hours": 3.0,
        "completed": 1,
    }
    assert rows["社工站"]["median_fulfilment_hours"] == 20.0
    assert {k: rows["就业服务站"][k] for k in ("offers", "answered", "median_answer_hours", "completed")} == {
        "offers": 2,
        "answered": 1,
        "median_answer_hours": 1.0,
        "completed": 0,
    }
    overall = body["current"]["overall"]
    assert (overall["offers"], overall["answered"], overall["median_answer_hours"]) == (4, 3, 2.0)
    assert body["previous"]["overall"]["median_answer_hours"] == 6.0
    assert body["answer"] == {
        "current": 2.0,
        "previous": 6.0,
        "direction": "lower_is_better",
        "improvement_pct": 66.7,
    }
    assert body["fulfilment"]["improvement_pct"] == 50.0

    export = world.admin.get(f"{API}/reports/response-times?{NOVEMBER}&format=xlsx")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.get_data())).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:4] == ["合作方", "帮扶邀约", "已答复", "答复时长中位数（小时）"]
    by_partner = {row[0]: row for row in values[1:]}
    assert by_partner["社工站"][3:5] == [3.0, 6.0]
    assert by_partner["合计"][3:5] == [2.0, 6.0]


def test_follow_up_outcomes_against_the_previous_period(world, worker):
    """Visits recorded in the period: two met and one partly (share 0.6667, satisfaction
    4.67) against one met and one not (0.5, 3.0) before: 33.3 % and 55.7 % better."""
    visits = []
    for _ in range(5):
        household, rid = completed_request(world, worker)
        visits.append((household, follow_up_of(rid).id))
    answers = [("yes", 5), ("yes", 5), ("partly", 4), ("yes", 4), ("no", 2)]
    days = [date(2026, 11, 3), date(2026, 11, 20), date(2026, 11, 30), date(2026, 10, 5), date(2026, 10, 31)]
    for (household, fid), (met, score), day in zip(visits, answers, days, strict=True):
        resp = world.caseworker.post(
            f"{API}/households/{household}/follow-ups/{fid}", json={"need_met": met, "satisfaction": score}
        )
        assert resp.status_code == 200, resp.get_json()
        db.session().execute(update(FollowUp).where(FollowUp.id == fid).values(recorded_at=at(day, 10)))
    db.commit()
    body = world.admin.get(f"{API}/reports/follow-up-outcomes?{NOVEMBER}").get_json()
    assert body["current"]["overall"] == {
        "category": "all",
        "recorded": 3,
        "met": 2,
        "partly": 1,
        "not_met": 0,
        "met_share": 0.6667,
        "mean_satisfaction": 4.67,
    }
    assert [(r["category"], r["recorded"]) for r in body["current"]["rows"]] == [("emergency", 3)]
    assert (body["previous"]["overall"]["met_share"], body["previous"]["overall"]["mean_satisfaction"]) == (0.5, 3.0)
    assert body["met_share"]["direction"] == "higher_is_better"
    assert body["met_share"]["improvement_pct"] == 33.3
    assert body["satisfaction"]["improvement_pct"] == 55.7
    csv_text = world.admin.get(f"{API}/reports/follow-up-outcomes?{NOVEMBER}&format=csv").get_data(as_text=True)
    assert csv_text.startswith("\ufeff类别,")
    assert "应急金,3,2,1,0,66.7,50.0,4.67,3.0" in csv_text
    assert "全部类别,3,2,1,0,66.7,50.0,4.67,3.0" in csv_text
    assert db.session().execute(select(FollowUp.status)).scalars().all() == ["recorded"] * 5


def test_bad_periods_are_refused_naming_the_field(as_role):
    """A period that runs backwards, or a year no report covers, is a 422 naming the field."""
    auditor = as_role("auditor")
    for path, field in (
        ("response-times?from=2026-12-01&to=2026-11-01", "from"),
        ("follow-up-outcomes?from=0001-01-01", "from"),
        ("follow-up-outcomes?to=9999-12-31", "to"),
        ("response-times?format=pdf", "format"),
    ):
        err = assert_error_shape(auditor.get(f"{API}/reports/{path}"), 422)
        assert field in err["details"], (path, err)
