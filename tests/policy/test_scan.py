"""The policy scan (政策找人): households eligible by the SQL form of each rule, minus
those receiving the benefit or with an application standing, written as one visiting
list per grid (CSV with BOM, or XLSX)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from broker.platform import db
from broker.platform.scope import Principal
from broker.policy import applications, catalogue
from broker.policy import scan as policy_scan
from broker.policy.catalogue import Policy
from broker.policy.evaluation import Facts
from broker.policy.rules import parse
from broker.registry import households
from broker.registry.household_schema import load_household
from models import Application, Grid, Household, HouseholdBenefit, User
from tests.policy.test_rules import PARAMS, PROPERTY, _insert, bool_expr, household_facts
from tests.support.registry_data import GRIDS, elderly_couple, vendor_family


@pytest.fixture
def registry_world(make_user):
    """Two grids and six households: eligible, receiving, applied, withdrawn and well-off."""
    session = db.session()
    for code, (name, district, street, community) in GRIDS.items():
        session.add(Grid(code=code, name=name, district=district, street=street, community=community))
    db.commit()
    admin_name = make_user("admin")
    admin_id = session.execute(select(User.id).where(User.username == admin_name)).scalar_one()
    admin = Principal(user_id=admin_id, username=admin_name, role="admin")

    def add(body: dict) -> int:
        household = households.create_household(session, admin, load_household(body))
        db.commit()
        return household.id

    ids = {
        "vendor": add(vendor_family(seq="1")),
        "granny": add(elderly_couple(seq="5")),
        "receiving": add(vendor_family(seq="2") | {"address": "海淀区中关村东路20号院1号楼101"}),
        "applied": add(vendor_family(seq="3") | {"address": "海淀区中关村东路22号院2号楼202"}),
        "withdrawn": add(vendor_family(seq="4") | {"address": "海淀区中关村东路24号院3号楼303"}),
        "well_off": add(vendor_family(seq="6") | {"monthly_income_fen": 5_000_000, "sudden_hardship": False}),
    }
    session.add(HouseholdBenefit(household_id=ids["receiving"], policy_code="dibao", source="declared"))
    applications.file_application(session, admin, ids["applied"], "dibao")
    withdrawn = applications.file_application(session, admin, ids["withdrawn"], "dibao")
    applications.advance(session, admin, withdrawn.id, "withdrawn", note="家庭搬走")
    db.commit()
    return ids


def hits_of(policies=None) -> set[tuple[int, str]]:
    return {
        (h.household_id, h.policy.code) for h in policy_scan.scan(db.session(), policies or policy_scan.policies_for())
    }


def test_scan_lists_eligible_households_minus_benefits_and_standing_applications(registry_world):
    """The scan lists each policy a household qualifies for, minus benefits received and applications standing."""
    ids = registry_world
    hits = hits_of()
    assert {"dibao", "medical_aid", "education_aid", "temporary_aid"} == {p for h, p in hits if h == ids["vendor"]}
    assert {"dibao", "education_aid", "disability_subsidies"} == {p for h, p in hits if h == ids["granny"]}
    assert (ids["receiving"], "dibao") not in hits
    assert (ids["receiving"], "education_aid") in hits
    assert (ids["applied"], "dibao") not in hits
    assert (ids["applied"], "medical_aid") in hits
    assert (ids["withdrawn"], "dibao") in hits
    assert not {p for h, p in hits if h == ids["well_off"]}


def test_scan_agrees_with_the_python_form_of_every_rule(registry_world):
    """The SQL scan gives exactly the pairs the Python predicates give, after benefits and applications."""
    session = db.session()
    expected = set()
    for household in session.execute(select(Household)).scalars():
        benefits = {b.policy_code for b in household.benefits}
        standing = set(
            session.execute(
                select(Application.policy_code).where(
                    Application.household_id == household.id, Application.status != "withdrawn"
                )
            ).scalars()
        )
        facts = Facts.of(household, benefits=benefits)
        for policy in catalogue.current().all():
            if policy.qualifies(facts) and policy.code not in benefits and policy.code not in standing:
                expected.add((household.id, policy.code))
    assert hits_of() == expected
    assert policy_scan.count_eligible(session, catalogue.current().all()) == len({h for h, _ in expected})


def test_each_hit_says_why(registry_world):
    """Every listed household carries the clauses that made it eligible, with its values."""
    hit = next(
        h
        for h in policy_scan.scan(db.session(), policy_scan.policies_for(["dibao"]))
        if h.household_id == registry_world["vendor"]
    )
    assert "income_per_capita_fen 48000 < dibao_line 111000" in hit.why
    assert hit.grid_code == "HD-ZGC-01"
    assert hit.address.startswith("海淀区")


def test_cli_writes_one_csv_per_grid_with_bom_and_a_summary(app, registry_world, tmp_path):
    """`flask policy scan --out DIR` writes a UTF-8-BOM CSV per grid and prints counts per policy."""
    out = tmp_path / "scan"
    result = app.test_cli_runner().invoke(args=["policy", "scan", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["HD-ZGC-01.csv", "HD-ZGC-02.csv"]
    raw = (out / "HD-ZGC-02.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader((out / "HD-ZGC-02.csv").open(encoding="utf-8-sig")))
    assert {r["政策代码 policy"] for r in rows} == {"dibao", "education_aid", "disability_subsidies"}
    assert rows[0]["户主 head"] == "王桂英"
    assert rows[0]["人均月收入(元) income_per_capita_yuan"] == "750.00"
    assert "5 households to visit" in result.output  # vendor, granny, receiving, applied, withdrawn
    assert "dibao" in result.output
    assert "lists written to" in result.output


def test_cli_xlsx_and_one_policy(app, registry_world, tmp_path):
    """--format xlsx writes workbooks Excel opens; --policy limits the scan to that policy."""
    out = tmp_path / "xlsx"
    result = app.test_cli_runner().invoke(
        args=["policy", "scan", "--policy", "dibao", "--out", str(out), "--format", "xlsx"]
    )
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out / "HD-ZGC-01.xlsx", read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "网格编码 grid"
    assert {r[8] for r in rows[1:]} == {"dibao"}
    assert len(rows) == 3
    assert all("最低生活保障申请书" in r[12] for r in rows[1:])


def test_cli_unknown_policy_fails_with_the_known_codes(app, registry_world, tmp_path):
    """An unknown --policy code exits 2 naming the policies that exist."""
    result = app.test_cli_runner().invoke(args=["policy", "scan", "--policy", "nope", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "dibao" in result.output
    assert not Path(tmp_path / "x").exists()


@PROPERTY
@given(source=bool_expr, rows=st.lists(household_facts, min_size=1, max_size=12))
def test_the_scans_joined_form_agrees_with_python_on_generated_rules(app, source, rows):
    """For generated rules and households, the scan's SQL (benefits joined, not probed) agrees with the Python form."""
    rule = parse(source)
    policy = Policy(
        code="generated",
        version="1",
        name="生成",
        name_en="generated",
        department="",
        description="",
        benefit={},
        rule_source=source,
        rule=rule,
        documents=(),
        excludes_if_receiving=(),
        review_days=1,
        source_file="",
        rule_line=1,
        params=PARAMS,
    )
    session = db.session()
    try:
        households = _insert(session, rows)
        flags = policy_scan.eligibility_flags([policy])
        sql_ids = set(session.execute(select(flags.c.household_id).where(flags.c.p0)).scalars())
        predicate = rule.predicate(PARAMS)
        assert sql_ids == {hid for hid, f in households if predicate(f)}, source
    finally:
        session.rollback()
        db.session.remove()
