"""The rules that read the new household inputs, with each county's own figures: a
household on each side of every corrected line, judged both ways the broker judges (the
Python rule on one household, as the policy package does; the rule compiled to SQL over
the registry, as the policy scan does), with the same verdict from both."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from broker.platform import db, runtime
from broker.policy import catalogue, fields
from broker.policy import scan as policy_scan
from broker.policy.catalogue import Catalogue, street_office
from broker.policy.counties import Counties, Figures, defaults_from
from broker.policy.evaluation import Facts
from broker.registry import household_facts
from models import Grid, Household, Member

TODAY = date(2026, 12, 2)
LINE = 111000  # the settings' default line (test settings), fen per person per month
# A county with its own, different urban and rural lines, that deducts rigid medical
# spending and allows one vehicle; another with a fixed asset limit and no deduction.
WEST = Figures(
    urban_line=150000,
    rural_line=100000,
    low_income_multiplier=Decimal("2"),
    motor_vehicles=1,
    deduct_medical=True,
    financial_assets_months=12,
)
EAST = Figures(
    urban_line=120000,
    rural_line=120000,
    low_income_multiplier=Decimal("1.5"),
    motor_vehicles=0,
    deduct_medical=False,
    financial_assets_per_capita_fen=2_000_000,
)
ADULT = date(1980, 1, 1)
OLD = date(1950, 1, 1)
CHILD = date(2015, 6, 1)


@pytest.fixture
def cat(app) -> Catalogue:
    """The shipped policies, with two counties' own figures (西城县, 东城县) beside the defaults."""
    settings = runtime.settings()
    figures = Counties(defaults_from(settings), {"西城县": WEST, "东城县": EAST})
    return catalogue.load(Path(settings["POLICY_DIR"]), fields.parameter_values(settings), figures)


@pytest.fixture
def grids(app) -> dict[str, Grid]:
    session = db.session()
    made = {
        county: Grid(code=code, name=f"{county}网格", district=county, street=street, community="社区")
        for code, county, street in (
            ("W-1", "西城县", "温泉镇"),
            ("E-1", "东城县", "东华门街道"),
            ("O-1", "别处区", "某街道"),
        )
    }
    session.add_all(made.values())
    db.commit()
    return made


def household(grid: Grid, members: list[dict], income: int, **inputs) -> int:
    session = db.session()
    h = Household(grid=grid, grid_id=grid.id, address="某路1号", monthly_income_fen=income, **inputs)
    for m in members:
        h.members.append(Member(name=m.pop("name", "成员"), relation=m.pop("relation", "other"), **m))
    session.add(h)
    session.flush()
    household_facts.refresh(h, TODAY)
    db.commit()
    return h.id


def verdicts(cat: Catalogue, code: str, ids: list[int]) -> tuple[set[int], set[int]]:
    """(Python verdict, SQL verdict): the households among ``ids`` that qualify."""
    policy = cat.get(code)
    session = db.session()
    rows = session.scalars(select(Household).where(Household.id.in_(ids))).all()
    python = {h.id for h in rows if policy.qualifies(Facts.of(h))}
    sql = set(session.scalars(select(Household.id).where(Household.id.in_(ids), policy.sql())))
    return python, sql


def agree(cat: Catalogue, code: str, ids: list[int], expected: set[int]) -> None:
    python, sql = verdicts(cat, code, ids)
    assert python == expected, f"{code}: python"
    assert sql == expected, f"{code}: sql"


def test_dibao_reads_the_county_line_for_urban_and_rural_households(cat, grids):
    """西城县's urban line is 1500 yuan and rural 1000 yuan; elsewhere the default 1110 yuan."""
    w = grids["西城县"]
    urban_under = household(w, [{"birth_date": ADULT}], 149999)
    urban_at = household(w, [{"birth_date": ADULT}], 150000)
    rural_under = household(w, [{"birth_date": ADULT}], 99999, residence="rural")
    rural_over = household(w, [{"birth_date": ADULT}], 100000, residence="rural")
    other_under = household(grids["别处区"], [{"birth_date": ADULT}], LINE - 1)
    other_at = household(grids["别处区"], [{"birth_date": ADULT}], LINE)
    ids = [urban_under, urban_at, rural_under, rural_over, other_under, other_at]
    agree(cat, "dibao", ids, {urban_under, rural_under, other_under})


def test_dibao_asset_test_financial_assets_vehicles_and_housing(cat, grids):
    """Financial assets per person up to the county's limit (西城县: 12 months of its line;
    东城县: a fixed 20,000 yuan); vehicles up to the county's allowance; no surplus housing."""
    w, e = grids["西城县"], grids["东城县"]
    two = [{"birth_date": ADULT}, {"birth_date": ADULT}]
    at_limit = household(w, [dict(m) for m in two], 0, financial_assets_fen=2 * 12 * 150000)
    over_limit = household(w, [dict(m) for m in two], 0, financial_assets_fen=2 * 12 * 150000 + 2)
    fixed_at = household(e, [{"birth_date": ADULT}], 0, financial_assets_fen=2_000_000)
    fixed_over = household(e, [{"birth_date": ADULT}], 0, financial_assets_fen=2_000_001)
    one_car_west = household(w, [{"birth_date": ADULT}], 0, motor_vehicles=1)
    two_cars_west = household(w, [{"birth_date": ADULT}], 0, motor_vehicles=2)
    one_car_east = household(e, [{"birth_date": ADULT}], 0, motor_vehicles=1)
    second_home = household(w, [{"birth_date": ADULT}], 0, surplus_housing=True)
    ids = [at_limit, over_limit, fixed_at, fixed_over, one_car_west, two_cars_west, one_car_east, second_home]
    agree(cat, "dibao", ids, {at_limit, fixed_at, one_car_west})


def test_dibao_deducts_rigid_medical_spending_where_the_county_says_so(cat, grids):
    """Income 1600 yuan a month with 1200 yuan a year of medical spending (100 a month)
    leaves 1500: not under 西城县's 1500-yuan line; with 1212 yuan a year it is. 东城县
    does not deduct, so the same spending there changes nothing."""
    w, e = grids["西城县"], grids["东城县"]
    just_not = household(
        w, [{"birth_date": ADULT}], 160000, medical_spending_fen=120000, medical_spending_period="yearly"
    )
    just_under = household(
        w, [{"birth_date": ADULT}], 160000, medical_spending_fen=121200 + 12, medical_spending_period="yearly"
    )
    monthly = household(w, [{"birth_date": ADULT}], 160000, medical_spending_fen=10001)
    east = household(e, [{"birth_date": ADULT}], 130000, medical_spending_fen=100000)
    ids = [just_not, just_under, monthly, east]
    agree(cat, "dibao", ids, {just_under, monthly})
    assert db.session().get(Household, just_under).income_after_medical_per_capita_fen == 149899


def test_tekun_needs_no_able_supporter_not_living_alone(cat, grids):
    """An elderly couple with no able supporter qualify (two people, not one alone); an
    old woman whose son can support her does not; an orphaned minor does; a 40-year-old
    with no supporter but no disability does not."""
    g = grids["别处区"]
    couple = household(
        g, [{"birth_date": OLD, "supporter_able": False}, {"birth_date": OLD, "supporter_able": False}], 0
    )
    supported = household(g, [{"birth_date": OLD, "supporter_able": True}], 0)
    not_recorded = household(g, [{"birth_date": OLD}], 0)
    orphan = household(g, [{"birth_date": CHILD, "supporter_able": False}], 0)
    adult = household(g, [{"birth_date": ADULT, "supporter_able": False}], 0)
    rich_orphan = household(g, [{"birth_date": CHILD, "supporter_able": False}], LINE)
    ids = [couple, supported, not_recorded, orphan, adult, rich_orphan]
    agree(cat, "tekun", ids, {couple, orphan})


@pytest.mark.parametrize(
    ("grade", "kind", "expected"),
    [
        (1, "physical", True),
        (2, "visual", True),
        (3, "intellectual", True),
        (3, "mental", True),
        (3, "physical", False),
        (4, "intellectual", False),
        (None, None, False),
    ],
)
def test_tekun_names_grades_one_and_two_and_grade_three_intellectual_or_mental(cat, grids, grade, kind, expected):
    hid = household(
        grids["别处区"],
        [{"birth_date": ADULT, "disability_grade": grade, "disability_kind": kind, "supporter_able": False}],
        0,
    )
    agree(cat, "tekun", [hid], {hid} if expected else set())


def test_medical_aid_includes_people_impoverished_by_serious_illness(cat, grids):
    """Income 3000 yuan for one person is above the low-income line (1665 yuan by
    default); 1400 yuan a month of medical spending leaves 1600: under it. Without the
    serious illness, the spending alone does not qualify."""
    g = grids["别处区"]
    ill = {"birth_date": ADULT, "conditions": ["白血病"]}
    spent = household(g, [dict(ill)], 300000, medical_spending_fen=140000)
    not_enough = household(g, [dict(ill)], 300000, medical_spending_fen=133500)
    no_spending = household(g, [dict(ill)], 300000)
    not_ill = household(g, [{"birth_date": ADULT}], 300000, medical_spending_fen=140000)
    ids = [spent, not_enough, no_spending, not_ill]
    agree(cat, "medical_aid", ids, {spent})


def test_the_low_income_line_follows_the_county_multiplier(cat, grids):
    """西城县: 2 × its urban line of 1500 yuan = 3000 yuan."""
    w = grids["西城县"]
    ill = {"birth_date": ADULT, "conditions": ["尿毒症"]}
    under = household(w, [dict(ill)], 299999)
    at = household(w, [dict(ill)], 300000)
    agree(cat, "medical_aid", [under, at], {under})


def test_the_policy_scan_agrees_with_the_package_on_the_shipped_counties(app, grids):
    """With the shipped county file (海淀区 deducts medical spending, 朝阳区 does not), the
    scan finds the household whose spending brings it under the line in 海淀区 only, and
    the package's verdict is the scan's."""
    session = db.session()
    hd = Grid(code="HD-T", name="网格", district="海淀区", street="中关村街道", community="社区")
    cy = Grid(code="CY-T", name="网格", district="朝阳区", street="劲松街道", community="社区")
    session.add_all([hd, cy])
    db.commit()
    spending = {"medical_spending_fen": 50000}
    haidian = household(hd, [{"birth_date": ADULT}], LINE + 40000, **spending)
    chaoyang = household(cy, [{"birth_date": ADULT}], LINE + 40000, **spending)
    policy = catalogue.current().get("dibao")
    found = {h.household_id for h in policy_scan.scan(db.session(), [policy])}
    assert haidian in found
    assert chaoyang not in found
    for hid in (haidian, chaoyang):
        assert policy.qualifies(Facts.of(db.session().get(Household, hid))) is (hid in found)
    hit = next(h for h in policy_scan.scan(db.session(), [policy]) if h.household_id == haidian)
    assert hit.office == "中关村街道办事处"


def test_sql_and_python_agree_on_mixed_households_in_every_county(cat, grids):
    """Every shipped policy gives one verdict in Python and SQL over households spread
    across the counties, residences, assets, spending and supporters."""
    ids = []
    for i, (county, residence) in enumerate(
        [(c, r) for c in ("西城县", "东城县", "别处区") for r in ("urban", "rural")]
    ):
        g = grids[county]
        for income in (0, 99999, 100000, 119999, 120000, 149999, 150000, 200000, 300000):
            ids.append(
                household(
                    g,
                    [
                        {"birth_date": OLD if i % 2 else CHILD, "supporter_able": bool(income % 3)},
                        {"birth_date": ADULT, "conditions": ["肺癌"] if income > 150000 else []},
                    ],
                    income,
                    residence=residence,
                    medical_spending_fen=income // 3,
                    financial_assets_fen=income * 20,
                    motor_vehicles=i % 2,
                )
            )
    for code in cat.codes():
        python, sql = verdicts(cat, code, ids)
        assert python == sql, code


def test_street_office_names_the_town_government_or_the_street_office():
    assert street_office("中关村街道") == "中关村街道办事处"
    assert street_office("温泉镇") == "温泉镇人民政府"
    assert street_office("某某乡") == "某某乡人民政府"
    assert street_office("中关村街道办事处") == "中关村街道办事处"


def test_dibao_is_filed_with_the_households_own_street(cat, grids):
    dibao = cat.get("dibao")
    assert dibao.office(grids["西城县"]) == "温泉镇人民政府"
    assert dibao.office(grids["东城县"]) == "东华门街道办事处"
    assert cat.get("medical_aid").office(grids["东城县"]) == cat.get("medical_aid").department
