"""Reports for auditors: disbursements by partner, category, grid and month (local
time), as JSON in fen and as CSV/XLSX in yuan that open in a spreadsheet; possible
duplicate benefits; time to fulfilment; and who may read them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from broker.money import time_to_help
from broker.platform import db
from models import Application, HouseholdBenefit
from tests.support import money
from tests.support.money import YUAN


def _paid_world():
    """Two partners, two grids, three households; disbursements on both sides of the
    Shanghai midnight that ends March 2026 (16:00 UTC)."""
    s = db.session()
    red_cross = money.partner(s, "红十字会", fund_fen=100_000 * YUAN)
    federation = money.partner(s, "慈善总会", fund_fen=100_000 * YUAN)
    g1, g2 = money.grid(s, "第一网格"), money.grid(s, "第二网格")
    h1, h2, h3 = money.household(s, g1), money.household(s, g1), money.household(s, g2)
    march_end = datetime(2026, 3, 31, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai, still March
    april_start = datetime(2026, 3, 31, 16, 30, tzinfo=UTC)  # 00:30 on 1 April in Shanghai
    plan = [
        (red_cross, h1, "medical", 3000 * YUAN, march_end),
        (federation, h2, "medical", 2000 * YUAN + 50, march_end),
        (federation, h3, "schooling", 800 * YUAN, april_start),
        (red_cross, h3, "emergency", 700 * YUAN, april_start + timedelta(days=3)),
    ]
    for partner, household, category, amount, at in plan:
        r = money.aid_request(s, household, category=category, amount_fen=amount)
        o = money.pledged_offer(s, r, partner, amount)
        money.disbursement(s, o, r, amount, at=at)
    db.commit()
    return {"red_cross": red_cross.id, "federation": federation.id, "g1": g1.id, "g2": g2.id}


def test_grouped_by_partner_category_grid_and_month(as_role):
    """Counts and sums (fen) per group, biggest first (months in order); totals add up."""
    ids = _paid_world()
    auditor = as_role("auditor")

    def rows(group_by: str, query: str = "") -> list[tuple]:
        resp = auditor.get(f"/api/v1/reports/disbursements?group_by={group_by}&{query}")
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        assert body["count"] == sum(r["count"] for r in body["rows"])
        assert body["amount_fen"] == sum(r["amount_fen"] for r in body["rows"])
        return [(r["key"], r["label"], r["count"], r["amount_fen"]) for r in body["rows"]]

    assert rows("partner") == [
        (ids["red_cross"], "红十字会", 2, 370000),
        (ids["federation"], "慈善总会", 2, 280050),
    ]
    assert rows("category") == [
        ("medical", "医疗援助", 2, 500050),
        ("schooling", "助学帮扶", 1, 80000),
        ("emergency", "应急金", 1, 70000),
    ]
    grid_rows = rows("grid")
    assert [(k, c, a) for k, _, c, a in grid_rows] == [(ids["g1"], 2, 500050), (ids["g2"], 2, 150000)]
    assert grid_rows[0][1].startswith("第一网格 (HD-")
    assert rows("month") == [("2026-03", "2026-03", 2, 500050), ("2026-04", "2026-04", 2, 150000)]
    assert rows("partner", "from=2026-04-01&to=2026-04-01") == [(ids["federation"], "慈善总会", 1, 80000)]
    assert rows("month", "to=2026-03-31") == [("2026-03", "2026-03", 2, 500050)]
    assert rows("category", "from=2027-01-01") == []


def test_the_report_as_csv_opens_with_chinese_intact(as_role):
    """CSV: UTF-8 with BOM, Chinese headers and names, yuan with two decimals, a total."""
    _paid_world()
    resp = as_role("auditor").get("/api/v1/reports/disbursements?group_by=partner&format=csv")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    data = resp.get_data()
    assert data[:3] == b"\xef\xbb\xbf"
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table == [
        ["合作方", "笔数", "金额（元）"],
        ["红十字会", "2", "3700.00"],
        ["慈善总会", "2", "2800.50"],
        ["合计", "4", "6500.50"],
    ]


def test_the_report_as_xlsx_opens_in_a_spreadsheet(as_role):
    """XLSX read back with openpyxl: Chinese headers, widths, numbers in yuan with the
    two-decimal format, a bold total row."""
    _paid_world()
    resp = as_role("admin").get("/api/v1/reports/disbursements?group_by=category&format=xlsx&from=2026-03-01")
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ws = load_workbook(io.BytesIO(resp.get_data())).active
    assert ws.title == "拨付汇总"
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values == [
        ["类别", "笔数", "金额（元）"],
        ["医疗援助", 2, 5000.5],
        ["助学帮扶", 1, 800],
        ["应急金", 1, 700],
        ["合计", 4, 6500.5],
    ]
    assert {ws.cell(row=i, column=3).number_format for i in range(2, 6)} == {"#,##0.00"}
    assert ws.cell(row=5, column=1).font.b
    assert ws.column_dimensions["A"].width >= 20
    assert ws.freeze_panes == "A2"


def test_fen_become_exact_yuan():
    """Conversion never goes through a float: 1 fen is 0.01, 10 001 fen is 100.01."""
    from decimal import Decimal

    from broker.money.exports import fen_to_yuan

    assert [fen_to_yuan(f) for f in (1, 10001, 123456789, -250, 0)] == [
        Decimal("0.01"),
        Decimal("100.01"),
        Decimal("1234567.89"),
        Decimal("-2.50"),
        Decimal("0.00"),
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [("group_by=donor", "group_by"), ("format=pdf", "format"), ("from=2026-05-01&to=2026-04-01", "from")],
)
def test_bad_report_parameters_are_422(as_role, query, field):
    """Unknown groupings or formats and backwards periods are 422s naming the parameter."""
    resp = as_role("auditor").get(f"/api/v1/reports/disbursements?{query}")
    assert resp.status_code == 422
    assert field in resp.get_json()["error"]["details"]


@pytest.mark.parametrize(
    "path", ["/api/v1/reports/disbursements", "/api/v1/reports/duplicate-benefits", "/api/v1/reports/fulfilment"]
)
def test_reports_are_for_auditors_and_admins(as_role, path):
    """Caseworkers are refused (403); auditors and admins read."""
    assert as_role("caseworker").get(path).status_code == 403
    assert as_role("auditor").get(path).status_code == 200
    assert as_role("admin").get(path).status_code == 200


# --- duplicate benefits --------------------------------------------------------------------------


def test_duplicate_benefits_beyond_the_need_and_from_several_sources(as_role):
    """Flagged: a request paid beyond its amount; one household's medical needs paid on two
    requests by two partners ten days apart. Not flagged: two partners 40 days apart with a
    30-day window; one partner paying one request in two parts; one request split between
    two partners (the parts of one benefit)."""
    s = db.session()
    a = money.partner(s, "红十字会", fund_fen=100_000 * YUAN)
    b = money.partner(s, "慈善总会", fund_fen=100_000 * YUAN)
    g = money.grid(s)
    twice, beyond, spaced, fine, split = (money.household(s, g) for _ in range(5))

    pay(s, a, twice, "medical", 5000 * YUAN, [(5000 * YUAN, 0)])
    pay(s, b, twice, "medical", 5000 * YUAN, [(3000 * YUAN, 10)])
    pay(s, a, beyond, "living", 1000 * YUAN, [(800 * YUAN, 0), (500 * YUAN, 1)])
    pay(s, a, spaced, "schooling", 800 * YUAN, [(800 * YUAN, 0)])
    pay(s, b, spaced, "schooling", 800 * YUAN, [(800 * YUAN, 40)])
    pay(s, a, fine, "medical", 1000 * YUAN, [(600 * YUAN, 0), (400 * YUAN, 5)])
    shared = money.aid_request(s, split, category="medical", amount_fen=30_000 * YUAN)
    for partner, amount, day in ((a, 20_000 * YUAN, 0), (b, 10_000 * YUAN, 2)):
        offer = money.pledged_offer(s, shared, partner, amount)
        money.disbursement(s, offer, shared, amount, at=T0 + timedelta(days=day))
    db.commit()
    ids = {"twice": twice.id, "beyond": beyond.id, "spaced": spaced.id}

    resp = as_role("auditor").get("/api/v1/reports/duplicate-benefits?window_days=30")
    assert resp.status_code == 200
    found = {(d["household_id"], d["category"]): d for d in resp.get_json()["items"]}
    assert set(found) == {(ids["twice"], "medical"), (ids["beyond"], "living")}
    double = found[ids["twice"], "medical"]
    assert double["reasons"] == ["several_sources"]
    assert double["partners"] == sorted(["红十字会", "慈善总会"])
    assert (double["needed_fen"], double["disbursed_fen"], double["excess_fen"]) == (1_000_000, 800_000, 0)
    assert [p["amount_fen"] for p in double["payments"]] == [500_000, 300_000]
    assert len({p["request_id"] for p in double["payments"]}) == 2
    over = found[ids["beyond"], "living"]
    assert over["reasons"] == ["beyond_need"]
    assert (over["needed_fen"], over["disbursed_fen"], over["excess_fen"]) == (100_000, 130_000, 30_000)
    assert over["category_label"] == "生活救助"

    wide = as_role("auditor").get("/api/v1/reports/duplicate-benefits?window_days=45").get_json()["items"]
    assert (ids["spaced"], "schooling") in {(d["household_id"], d["category"]) for d in wide}
    assert as_role("auditor").get("/api/v1/reports/duplicate-benefits?window_days=0").status_code == 422


def test_the_same_fund_paying_twice_and_a_government_benefit_are_flagged(as_role):
    """Three emergency grants from one fund to one household in three days are flagged
    (same_fund_again); a charity's medical payment a week after medical assistance was
    approved is flagged as a second source, with the application as evidence; the
    minimum-living allowance beside the disability subsidies (both living costs, both
    government) is not."""
    s = db.session()
    fund = money.partner(s, "社区互助金", fund_fen=100_000 * YUAN)
    federation = money.partner(s, "慈善总会", fund_fen=100_000 * YUAN)
    g = money.grid(s)
    grants, ill, stacked = (money.household(s, g) for _ in range(3))
    for day in range(3):
        pay(s, fund, grants, "emergency", 999 * YUAN, [(999 * YUAN, day)])
    approved = _approved(s, ill, "medical_aid", T0.date())
    pay(s, federation, ill, "medical", 20_000 * YUAN, [(20_000 * YUAN, 7)])
    _approved(s, stacked, "dibao", T0.date())
    _approved(s, stacked, "disability_subsidies", T0.date())
    db.commit()

    found = {
        (d["household_id"], d["category"]): d
        for d in as_role("auditor").get("/api/v1/reports/duplicate-benefits?window_days=30").get_json()["items"]
    }
    assert set(found) == {(grants.id, "emergency"), (ill.id, "medical")}
    assert found[grants.id, "emergency"]["reasons"] == ["same_fund_again"]
    assert found[grants.id, "emergency"]["disbursed_fen"] == 3 * 999 * YUAN
    medical = found[ill.id, "medical"]
    assert medical["reasons"] == ["several_sources"]
    assert [(g["application_id"], g["policy_code"]) for g in medical["government"]] == [(approved, "medical_aid")]
    assert medical["government"][0]["since"] == T0.date().isoformat()

    later = as_role("auditor").get("/api/v1/reports/duplicate-benefits?window_days=5").get_json()["items"]
    assert (ill.id, "medical") not in {(d["household_id"], d["category"]) for d in later}


T0 = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)


def pay(s, partner, household, category, need, amounts_and_days):
    """One request of ``need`` paid by ``partner`` in parts, each ``day`` days after T0."""
    r = money.aid_request(s, household, category=category, amount_fen=need)
    o = money.pledged_offer(s, r, partner, sum(a for a, _ in amounts_and_days))
    for amount, day in amounts_and_days:
        money.disbursement(s, o, r, amount, at=T0 + timedelta(days=day))


def _approved(s, household, policy_code: str, since) -> int:
    """An application approved on ``since`` and the benefit it granted, as the policy
    domain records them."""
    app = Application(household_id=household.id, policy_code=policy_code, policy_version="2025.1", status="approved")
    s.add(app)
    s.flush()
    source = f"application:{app.id}"
    s.add(HouseholdBenefit(household_id=household.id, policy_code=policy_code, since=since, source=source))
    s.flush()
    return app.id


# --- time to fulfilment ------------------------------------------------------------------------------


def test_time_to_fulfilment_by_category(as_role):
    """Completed requests only: count, median and 90th percentile of the hours from
    request to completion, per category and overall; the period selects by completion."""
    s = db.session()
    h = money.household(s)
    start = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
    for hours in (1, 2, 3, 4, 10):
        money.aid_request(
            s,
            h,
            category="emergency",
            status="completed",
            created_at=start,
            completed_at=start + timedelta(hours=hours),
        )
    money.aid_request(
        s, h, category="medical", status="completed", created_at=start, completed_at=start + timedelta(hours=48)
    )
    money.aid_request(s, h, category="medical", status="active", created_at=start)
    db.commit()
    body = as_role("auditor").get("/api/v1/reports/fulfilment").get_json()
    rows = {r["category"]: r for r in body["rows"]}
    assert set(rows) == {"emergency", "medical"}
    assert rows["emergency"] == {
        "category": "emergency",
        "label": "应急金",
        "completed": 5,
        "median_hours": 3.0,
        "p90_hours": 7.6,
    }
    assert (rows["medical"]["completed"], rows["medical"]["median_hours"]) == (1, 48.0)
    assert body["overall"]["completed"] == 6
    assert body["overall"]["median_hours"] == 3.5
    later = as_role("auditor").get("/api/v1/reports/fulfilment?from=2026-06-02").get_json()
    assert [r["category"] for r in later["rows"]] == ["medical"]


def test_percentiles_interpolate_like_percentile_cont():
    """The percentile helper matches PostgreSQL's percentile_cont on small samples."""
    assert time_to_help.percentile([], 0.5) is None
    assert time_to_help.percentile([5.0], 0.9) == 5.0
    assert time_to_help.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert time_to_help.percentile([1.0, 2.0, 3.0, 4.0, 10.0], 0.9) == pytest.approx(7.6)


def test_a_disbursement_made_through_the_api_is_reported(as_role, make_user, login, worker):
    """End to end: a partner accepts an offer and pays out over the API; the auditor's
    report, ledger and fund history show it."""
    from tests.support.aid import make_world, need

    world = make_world(as_role, make_user, login)
    partner = world.partner("社区互助基金", categories=["counselling", "medical"], fund_fen=5000 * YUAN)
    hid = world.household()
    world.assess(hid, need("medical", amount_fen=1200 * YUAN))
    worker()  # routing and delivery run as outbox jobs
    offers = world.offers_of("社区互助基金")
    assert len(offers) == 1
    client = world.partner_clients["社区互助基金"]
    assert client.post(f"/api/v1/offers/{offers[0]['id']}/accept", json={}).status_code == 200
    paid = client.post(
        f"/api/v1/offers/{offers[0]['id']}/disbursements", json={"amount_fen": 1200 * YUAN, "kind": "cash"}
    )
    assert paid.status_code == 201, paid.get_json()
    auditor = as_role("auditor")
    report = auditor.get("/api/v1/reports/disbursements?group_by=partner").get_json()
    assert [(r["label"], r["count"], r["amount_fen"]) for r in report["rows"]] == [("社区互助基金", 1, 120000)]
    kinds = [t["kind"] for t in auditor.get(f"/api/v1/ledger?partner_id={partner['id']}").get_json()["items"]]
    assert kinds == ["disbursement", "pledge", "deposit"]
    history = auditor.get(f"/api/v1/partners/{partner['id']}/deposits").get_json()
    assert (history["available_fen"], history["pledged_fen"]) == (380000, 0)
