"""The county figures file: read at start-up, each mistake reported as file:line; a
county that sets nothing uses the settings; a policy may name the counties it applies
to, only counties the file lists, and then matches nowhere else (in Python and SQL)."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from broker import boot
from broker.platform import db, runtime
from broker.policy import catalogue, county_file, fields
from broker.policy.catalogue import PolicyError
from broker.policy.county_file import CountyError
from broker.policy.evaluation import Facts
from models import Grid, Household

SETTINGS = {"LOCAL_DIBAO_LINE_FEN": 111000}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "counties.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_county_sets_its_figures_and_the_rest_come_from_the_settings(tmp_path):
    path = write(
        tmp_path,
        "counties:\n"
        "  海淀区:\n"
        "    dibao_line: {urban: 1395 yuan, rural: 1200.50 yuan}\n"
        "    low_income_multiplier: 2\n"
        "    deduct_medical_spending: true\n"
        "  朝阳区:\n"
        "    financial_assets_per_capita: 3000000\n"
        "  通州区:\n",
    )
    counties = county_file.load(path, SETTINGS)
    assert counties.params_for("海淀区", "urban") == {
        "dibao_line": 139500,
        "low_income_line": 279000,
        "financial_assets_limit": 24 * 139500,
        "motor_vehicle_limit": 0,
        "medical_deducted": True,
    }
    assert counties.params_for("海淀区", "rural")["dibao_line"] == 120050
    assert counties.params_for("朝阳区", "rural") == {
        "dibao_line": 111000,
        "low_income_line": 166500,
        "financial_assets_limit": 3000000,
        "motor_vehicle_limit": 0,
        "medical_deducted": False,
    }
    assert counties.params_for("通州区", "urban") == counties.params_for("elsewhere", "urban")
    assert counties.names() == ["海淀区", "朝阳区", "通州区"]


def test_the_defaults_follow_the_settings():
    counties = county_file.load(None, {**SETTINGS, "LOCAL_RURAL_DIBAO_LINE_FEN": 90000, "LOW_INCOME_MULTIPLIER": "1.8"})
    assert counties.defaults.rural_line == 90000
    assert counties.defaults.low_income_multiplier == Decimal("1.8")
    assert counties.params_for(None, "rural")["low_income_line"] == 162000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("counties:\n  海淀区:\n    dibao_lin: 1\n", "counties.yaml:3: county 海淀区: unknown key 'dibao_lin'"),
        (
            "counties:\n  海淀区:\n    dibao_line: {urban: -5}\n",
            "counties.yaml:3: county 海淀区: dibao_line.urban must",
        ),
        ("counties:\n  海淀区:\n    dibao_line: {town: 1}\n", "counties.yaml:3: county 海淀区: dibao_line takes urban"),
        ("counties:\n  海淀区:\n    low_income_multiplier: abc\n", "counties.yaml:3: county 海淀区: low_income_mult"),
        ("counties:\n  海淀区:\n    low_income_multiplier: 9\n", "counties.yaml:3: county 海淀区: low_income_mult"),
        ("counties:\n  海淀区:\n    motor_vehicles: -1\n", "counties.yaml:3: county 海淀区: motor_vehicles must"),
        ("counties:\n  海淀区:\n    deduct_medical_spending: 是\n", "counties.yaml:3: county 海淀区: deduct_medical"),
        (
            "counties:\n  海淀区:\n    financial_assets_months: 12\n    financial_assets_per_capita: 1 yuan\n",
            "counties.yaml:3: county 海淀区: give financial_assets_months or",
        ),
        ("countries:\n  海淀区:\n", "counties.yaml:1: unknown key 'countries'"),
        ("counties: [海淀区\n", "counties.yaml:2: not valid YAML"),
    ],
)
def test_each_mistake_names_its_line(tmp_path, text, expected):
    with pytest.raises(CountyError) as info:
        county_file.load(write(tmp_path, text), SETTINGS)
    assert any(p.startswith(expected) for p in info.value.problems), info.value.problems


def test_a_bad_county_file_stops_the_start(app, tmp_path):
    path = write(tmp_path, "counties:\n  海淀区:\n    motor_vehicles: many\n")
    with pytest.raises(PolicyError) as info:
        boot.init({"INSTANCE_PATH": str(tmp_path / "inst"), "COUNTY_FILE": str(path)})
    assert "counties.yaml:3:" in str(info.value)


def _policies_with(tmp_path: Path, extra: str) -> Path:
    folder = tmp_path / "policies"
    shutil.copytree(runtime.settings()["POLICY_DIR"], folder)
    (folder / "county_grant.yaml").write_text(extra, encoding="utf-8")
    return folder


GRANT = """code: county_grant
version: "2026.1"
name: 县级临时生活补贴
name_en: County living grant
department: 县民政局
counties: [{county}]
benefit:
  description: 一次性补贴
rule: income_per_capita_fen < dibao_line
review_days: 10
documents:
  - code: application_form
    label: 申请书
    label_en: Application form
"""


def test_a_policy_may_name_only_counties_the_file_lists(app, tmp_path):
    counties = county_file.load(write(tmp_path, "counties:\n  海淀区:\n"), SETTINGS)
    folder = _policies_with(tmp_path, GRANT.format(county="朝阳区"))
    with pytest.raises(PolicyError) as info:
        catalogue.load(folder, fields.parameter_values(SETTINGS), counties)
    assert any(p.startswith("county_grant.yaml:6: counties names '朝阳区'") for p in info.value.problems)


def test_a_county_policy_matches_only_in_its_county(app, tmp_path):
    """The grant of 海淀区 finds a poor household there, in Python and SQL, and not the
    same household in 朝阳区; it is not in the 朝阳区 household's package either."""
    counties = county_file.load(write(tmp_path, "counties:\n  海淀区:\n  朝阳区:\n"), SETTINGS)
    cat = catalogue.load(
        _policies_with(tmp_path, GRANT.format(county="海淀区")), fields.parameter_values(SETTINGS), counties
    )
    grant = cat.get("county_grant")
    assert grant.counties == ("海淀区",)
    session = db.session()
    ids = {}
    for district in ("海淀区", "朝阳区"):
        grid = Grid(code=f"G-{district}", name="网格", district=district, street="街道", community="社区")
        h = Household(grid=grid, address="某路1号", monthly_income_fen=0, member_count=1)
        session.add(h)
        session.flush()
        ids[district] = h.id
    db.commit()
    found = set(session.scalars(select(Household.id).where(grant.sql())))
    assert found == {ids["海淀区"]}
    by_python = {hid for hid in ids.values() if grant.qualifies(Facts.of(session.get(Household, hid)))}
    assert by_python == {ids["海淀区"]}
