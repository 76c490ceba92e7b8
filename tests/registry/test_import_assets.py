"""The survey sheet's columns for the corrected policies: residence, financial assets,
vehicles, surplus housing, rigid medical spending (monthly or yearly), a member's kind
of disability and legal supporter; a bad cell in any of them is reported by row and
column and rejects only its household."""

from __future__ import annotations

import datetime as dt

import pytest

from broker.platform import db
from models import Grid
from tests.registry.test_import import households, run, write_xlsx

HEADER = ["网格编码", "户编号", "地址", "姓名", "出生日期", "与户主关系", "残疾等级", "残疾类别",
          "有能力的法定义务人", "家庭月收入(元)", "城乡", "家庭金融资产(元)", "机动车(辆)", "超需住房",
          "自付医疗费用(元)", "医疗费用周期"]  # fmt: skip
OLD_MAN = [
    ["HD-ZGC-01", "B-001", "海淀区温泉镇白家疃村3号", "刘福", dt.date(1948, 3, 1), "户主", None, None, "无",
     "600", "农村", "3000", "0", "否", "2400", "每年"],
    ["HD-ZGC-01", "B-001", None, "刘小花", dt.date(1990, 7, 1), "女儿", "三级", "智力", "无",
     None, None, None, None, None, None, None],
]  # fmt: skip
FAMILY = [
    ["HD-ZGC-01", "B-002", "海淀区中关村东路18号院5号楼", "陈刚", dt.date(1980, 1, 1), "户主", None, None, "有",
     "5000", "城镇", "120000.50", "1辆", "是", "1500", "每月"],
]  # fmt: skip


@pytest.fixture
def grid():
    g = Grid(code="HD-ZGC-01", name="中关村东路第一网格", district="海淀区", street="温泉镇", community="白家疃村")
    db.session().add(g)
    db.commit()
    return g


def test_the_new_columns_become_inputs_and_facts(grid, tmp_path):
    result = run(write_xlsx(tmp_path / "survey.xlsx", HEADER, OLD_MAN + FAMILY))
    assert result.errors == []
    old, family = households()
    assert (old.residence, old.financial_assets_fen, old.motor_vehicles, old.surplus_housing) == (
        "rural",
        300000,
        0,
        False,
    )
    assert (old.medical_spending_fen, old.medical_spending_period, old.medical_spending_monthly_fen) == (
        240000,
        "yearly",
        20000,
    )
    assert [(m.supporter_able, m.disability_kind) for m in old.members] == [(False, None), (False, "intellectual")]
    assert old.unsupported_count == 2  # the old man, and his daughter with a grade-3 intellectual disability
    assert old.income_after_medical_per_capita_fen == (60000 - 20000) // 2
    assert (family.residence, family.financial_assets_fen, family.motor_vehicles, family.surplus_housing) == (
        "urban",
        12000050,
        1,
        True,
    )
    assert family.members[0].supporter_able is True
    assert family.medical_spending_monthly_fen == 150000


@pytest.mark.parametrize(
    ("col", "value", "column", "fragment"),
    [
        (10, "郊区", "城乡", "is not a known residence"),
        (11, "很多", "家庭金融资产(元)", "is not an amount in yuan"),
        (12, "两辆", "机动车(辆)", "is not a whole number"),
        (13, "也许", "超需住房", "is not yes or no"),
        (14, "-5", "自付医疗费用(元)", "cannot be negative"),
        (15, "每周", "医疗费用周期", "is not a known period"),
        (7, "心理", "残疾类别", "is not a known kind of disability"),
        (8, "不清楚", "有能力的法定义务人", "is not yes or no"),
        (12, "99", "机动车(辆)", "less than or equal to 20"),
    ],
)
def test_a_bad_new_cell_is_reported_by_row_and_column(grid, tmp_path, col, value, column, fragment):
    rows = [row[:] for row in OLD_MAN]
    rows[0][col] = value
    result = run(write_xlsx(tmp_path / "survey.xlsx", HEADER, rows + FAMILY))
    assert (result.households_rejected, result.households_created) == (1, 1)
    error = result.errors[0]
    assert (error.row, error.column) == (3, column), result.errors
    assert fragment in error.reason, result.errors
