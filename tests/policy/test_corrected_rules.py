"""The corrected policy rules, each with a household on either side of its line, judged
both ways the broker judges (the Python rule on one household, the SQL scan over the
registry); serious illness as families say it; and the daily birthday pass that lets the
scan find a child on the day it turns 6."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from broker.platform import db
from broker.platform.scope import Principal
from broker.policy import catalogue
from broker.policy import scan as policy_scan
from broker.policy.evaluation import Facts
from broker.registry import ages, households
from broker.registry.household_facts import compute, is_serious, normalise_condition
from broker.registry.household_schema import load_household
from models import AuditEvent, Grid, Household, User
from tests.support.registry_data import GRIDS

LINE = 111000  # the test settings' minimum-living line, fen per person per month
TODAY = date(2026, 12, 2)


def person(**kw) -> SimpleNamespace:
    base = {"birth_date": None, "conditions": [], "disability_grade": None, "schooling": None, "employment": None}
    return SimpleNamespace(**{**base, **kw})


def qualifies(code: str, members: list, income_per_person: int, benefits: tuple[str, ...] = ()) -> bool:
    values = compute(members, income_per_person * len(members), TODAY)
    values |= {"monthly_income_fen": income_per_person * len(members), "sudden_hardship": False}
    values["consent_to_share"] = False
    return catalogue.current().get(code).qualifies(Facts(values, frozenset(benefits)))


ADULT = {"birth_date": date(1980, 1, 1), "employment": "employed"}


@pytest.mark.parametrize(
    ("grade", "income", "expected"),
    [
        (1, 10 * LINE, True),  # severe: the nursing subsidy has no income test
        (2, 10 * LINE, True),
        (3, 10 * LINE, False),  # not severe, well off
        (3, LINE - 1, True),  # not severe, poor: the living subsidy
        (None, LINE - 1, False),  # poor, no disability
    ],
)
def test_disability_subsidies_nursing_has_no_income_test(app, grade, income, expected):
    members = [person(**ADULT), person(birth_date=date(1990, 5, 5), disability_grade=grade)]
    assert qualifies("disability_subsidies", members, income) is expected


@pytest.mark.parametrize(
    ("child", "expected"),
    [
        ({"birth_date": date(2022, 3, 1)}, True),  # aged 4: preschool
        ({"birth_date": date(2024, 1, 1)}, False),  # aged 2: not yet
        ({"birth_date": date(2015, 9, 1), "schooling": "primary"}, True),
        ({"birth_date": date(2005, 9, 1), "schooling": "college", "employment": "student"}, True),  # university
        ({"birth_date": date(2000, 9, 1), "schooling": "college", "employment": "employed"}, False),  # graduated
    ],
)
def test_education_aid_from_preschool_to_university(app, child, expected):
    members = [person(**ADULT), person(**child)]
    assert qualifies("education_aid", members, LINE - 1) is expected
    assert qualifies("education_aid", members, 10 * LINE) is False  # well off: never


@pytest.mark.parametrize(
    ("condition", "serious"),
    [
        ("大病", True),
        ("重病", True),
        ("肺癌", True),
        ("急性淋巴细胞白血病", True),
        ("恶性淋巴瘤", True),
        ("尿毒症", True),
        ("leukaemia", True),
        ("高血压", False),
        ("感冒", False),
        ("diabetes", False),
    ],
)
def test_serious_illness_as_families_say_it(condition, serious):
    assert is_serious(normalise_condition(condition)) is serious


def test_medical_aid_finds_a_colloquial_serious_illness(app):
    members = [person(**ADULT), person(birth_date=date(1982, 2, 2), conditions=["肝癌晚期"])]
    assert qualifies("medical_aid", members, LINE) is True
    members[1].conditions = ["腰疼"]
    assert qualifies("medical_aid", members, LINE) is False


@pytest.fixture
def admin(make_user) -> Principal:
    session = db.session()
    for code, (name, district, street, community) in GRIDS.items():
        session.add(Grid(code=code, name=name, district=district, street=street, community=community))
    db.commit()
    name = make_user("admin")
    uid = session.execute(select(User.id).where(User.username == name)).scalar_one()
    return Principal(user_id=uid, username=name, role="admin")


def _household(admin: Principal, members: list[dict], income: int) -> int:
    session = db.session()
    body = {
        "grid": next(iter(GRIDS)),
        "address": "海淀区中关村东路18号院",
        "head_name": members[0]["name"],
        "monthly_income_fen": income,
        "members": members,
    }
    household = households.create_household(session, admin, load_household(body))
    db.commit()
    return household.id


def _hits(code: str) -> set[int]:
    return {h.household_id for h in policy_scan.scan(db.session(), policy_scan.policies_for([code]))}


def test_the_scan_agrees_on_both_sides_of_the_corrected_lines(admin):
    """The SQL scan finds the severely disabled person in a well-off household and the
    university student in a poor one, and not their neighbours across each line."""
    severe = _household(
        admin,
        [{"name": "李强", "relation": "head", "birth_date": "1970-01-01", "disability_grade": 1}],
        income=10 * LINE,
    )
    mild = _household(
        admin,
        [{"name": "赵刚", "relation": "head", "birth_date": "1970-01-01", "disability_grade": 4}],
        income=10 * LINE,
    )
    student = _household(
        admin,
        [
            {"name": "王芳", "relation": "head", "birth_date": "1975-01-01"},
            {
                "name": "王磊",
                "relation": "child",
                "birth_date": "2005-01-01",
                "schooling": "college",
                "employment": "student",
            },
        ],
        income=LINE,
    )
    assert severe in _hits("disability_subsidies")
    assert mild not in _hits("disability_subsidies")
    assert student in _hits("education_aid")


def test_a_child_turning_six_is_found_on_the_day(admin):
    """A 5-year-old (no schooling recorded) counts as preschool; the birthday pass on the day
    they turn 6 makes them a school-age child, records the change on the chain once, and a
    second pass changes nothing."""
    hid = _household(
        admin,
        [
            {"name": "孙丽", "relation": "head", "birth_date": "1990-12-02"},
            {"name": "孙小宝", "relation": "child", "birth_date": "2020-12-02"},
        ],
        income=LINE - 1,
    )
    session = db.session()
    household = session.get(Household, hid)
    household.school_age_children = 0  # as computed on the day before the birthday
    db.commit()
    assert ages.refresh_birthdays(db.session(), TODAY) == 1
    db.commit()
    assert db.session().get(Household, hid).school_age_children == 1
    assert ages.refresh_birthdays(db.session(), TODAY) == 0
    events = db.session().scalars(select(AuditEvent).where(AuditEvent.action == "household.facts_refreshed")).all()
    assert len(events) == 1
    assert "孙" not in (events[0].before or "") + (events[0].after or "")


def test_the_pass_catches_up_a_missed_week_and_29_february(admin):
    """Birthdays of the last seven days are covered (a day the scheduler missed), and a
    29 February birthday counts on 1 March in a common year."""
    assert (2, 29) in ages._birthdays(date(2027, 3, 1), 1)
    assert (2, 29) not in ages._birthdays(date(2028, 3, 1), 1)
    assert (11, 26) in ages._birthdays(date(2026, 12, 2), 7)
    assert (11, 25) not in ages._birthdays(date(2026, 12, 2), 7)
