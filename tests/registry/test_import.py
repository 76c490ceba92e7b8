"""The door-to-door survey import: XLSX and CSV (with or without BOM), Chinese and
English headers, a bad row rejecting only its household with a row-by-row report,
re-import updating instead of duplicating, batch commits, and the CLI command."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from broker import audit
from broker.platform import db
from broker.policy.package import package_for
from broker.registry import importer, survey_sheet
from models import AuditEvent, Grid, Household, Member
from tests.support.registry_data import id_number
from tests.support.statements import sent

ZH = ["网格编码", "户编号", "地址", "姓名", "身份证号", "出生日期", "与户主关系", "健康状况", "残疾等级", "就学情况",
      "就业情况", "家庭月收入(元)", "同意共享"]  # fmt: skip
EN = ["grid_code", "household_ref", "address", "name", "id_number", "birth_date", "relation", "health",
      "disability_grade", "schooling", "employment", "monthly_income_yuan", "consent_to_share"]  # fmt: skip
HEAD_ID = id_number(dt.date(1979, 4, 12), "131")
WIFE_ID = id_number(dt.date(1981, 9, 3), "142")
GRANNY_ID = id_number(dt.date(1950, 1, 23), "162")
VENDOR = [
    ["HD-ZGC-01", "A-001", "海淀区中关村东路18号院3号楼2单元501", "张建国", HEAD_ID, None, "户主", "健康",
     None, None, "个体", "2400", "是"],
    ["HD-ZGC-01", "A-001", None, "李秀兰", WIFE_ID, None, "配偶", "", None, None, "失业", None, None],
    ["HD-ZGC-01", "A-001", None, "张浩", None, dt.date(2010, 6, 20), "儿子", "白血病", None, "初中", "学生",
     None, None],
    ["HD-ZGC-01", "A-001", None, "张婷", None, "2014/2/8", "女儿", "健康", None, "小学", None, None, None],
    ["HD-ZGC-01", "A-001", None, "张磊", None, "20171130", "儿子", None, None, "小学", None, None, None],
]  # fmt: skip
GRANNY = [
    ["HD-ZGC-01", "A-002", "海淀区海淀黄庄路7号楼1单元302", "王桂英", GRANNY_ID, None, "户主", "高血压", "二级", None,
     "退休", "1500.50", "否"],
    ["HD-ZGC-01", "A-002", None, "王子涵", None, "2012-05-17", "孙子", None, None, "小学", None, None, None],
]  # fmt: skip


@pytest.fixture
def grid():
    g = Grid(code="HD-ZGC-01", name="中关村东路第一网格", district="海淀区", street="中关村街道", community="科源社区")
    db.session().add(g)
    db.commit()
    return g


def write_xlsx(path: Path, header: list[str], rows: list[list]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(["中关村街道敲门行动入户调查表"])  # a title row above the header, as survey sheets have
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def write_csv(path: Path, header: list[str], rows: list[list], *, bom: bool = True) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else (v.isoformat() if isinstance(v, dt.date) else v) for v in row])
    return path


def run(path: Path, **kw) -> importer.ImportResult:
    return importer.import_households(db.session(), path, commit=db.commit, **kw)


def households() -> list[Household]:
    return db.session().execute(select(Household).order_by(Household.survey_ref)).scalars().all()


def test_xlsx_with_chinese_headers_imports_households_and_members(grid, tmp_path):
    """A workbook with Chinese headers and a title row becomes households: members, Chinese names, derived facts."""
    result = run(write_xlsx(tmp_path / "survey.xlsx", ZH, VENDOR + GRANNY))
    assert (result.households_created, result.rows_imported, result.errors) == (2, 7, [])
    vendor, granny = households()
    assert vendor.head_name == "张建国"
    assert vendor.monthly_income_fen == 240000
    assert vendor.consent_to_share
    assert [m.name for m in vendor.members] == ["张建国", "李秀兰", "张浩", "张婷", "张磊"]
    assert (vendor.member_count, vendor.income_per_capita_fen, vendor.serious_illness) == (5, 48000, True)
    assert vendor.school_age_children == 3
    assert vendor.members[2].conditions == ["白血病"]
    assert vendor.members[1].employment == "unemployed"
    assert granny.monthly_income_fen == 150050
    assert granny.disabled_count == 1
    assert not granny.consent_to_share
    assert granny.members[1].relation == "grandchild"
    assert all(m.id_number_enc is None or HEAD_ID.encode() not in m.id_number_enc for m in vendor.members)
    codes = {e.policy.code for e in package_for(db.session(), vendor).items}
    assert {"dibao", "medical_aid", "education_aid"} <= codes


@pytest.mark.parametrize("bom", [True, False])
def test_csv_with_english_headers_and_with_or_without_bom(grid, tmp_path, bom):
    """A UTF-8 CSV with English headers imports the same, whether or not Excel put a BOM in front."""
    result = run(write_csv(tmp_path / "survey.csv", EN, VENDOR, bom=bom))
    assert result.households_created == 1
    assert not result.errors
    assert households()[0].members[0].name == "张建国"


def test_reimport_updates_instead_of_duplicating(grid, tmp_path):
    """Importing the same sheet again, with a changed income and a member gone, updates the household in place."""
    run(write_xlsx(tmp_path / "v1.xlsx", ZH, VENDOR))
    changed = [row[:] for row in VENDOR[:4]]
    changed[0][11] = "3000"
    result = run(write_xlsx(tmp_path / "v2.xlsx", ZH, changed))
    assert (result.households_created, result.households_updated) == (0, 1)
    (vendor,) = households()
    assert vendor.monthly_income_fen == 300000
    assert vendor.member_count == 4
    assert db.session().execute(select(func.count()).select_from(Member)).scalar_one() == 4
    actions = db.session().execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
    assert "household.reimported" in actions
    assert actions.count("registry.imported") == 2


def test_a_bad_row_rejects_only_its_household_and_is_reported(grid, tmp_path):
    """A wrong ID check digit rejects that household alone; the report gives row, column, reason and the rejection."""
    bad = [row[:] for row in GRANNY]
    bad[1][4] = GRANNY_ID[:-1] + ("0" if GRANNY_ID[-1] != "0" else "1")  # the grandson's ID, mistyped
    sheet = write_xlsx(tmp_path / "survey.xlsx", ZH, VENDOR + bad)
    result = run(sheet)
    assert (result.households_created, result.households_rejected, result.rows_rejected) == (1, 1, 2)
    assert [h.survey_ref for h in households()] == ["A-001"]
    (error,) = result.errors
    assert (error.row, error.column, error.survey_ref) == (9, "身份证号", "A-002")
    assert "check character" in error.reason
    assert "household A-002 (rows 8–9) not imported" in error.reason
    created = db.session().execute(select(AuditEvent.action).where(AuditEvent.action == "household.created")).all()
    assert len(created) == 1  # the rejected household left no audit event behind
    assert audit.verify(db.session()).ok
    report = importer.write_error_report(result.errors, importer.default_error_path(sheet))
    assert report.name == "survey.errors.csv"
    assert report.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(report.open(encoding="utf-8-sig")))
    assert rows[0] == ["行号 row", "列 column", "户编号 household", "原因 reason"]
    assert rows[1][:3] == [
        "9",
        "身份证号",
        "A-002",
    ]


@pytest.mark.parametrize(
    ("change", "column", "fragment"),
    [
        ((None, 0, "NO-SUCH-GRID"), "网格编码", "there is no grid NO-SUCH-GRID"),
        ((0, 11, "两千"), "家庭月收入(元)", "is not an amount in yuan"),
        ((0, 12, "也许"), "同意共享", "is not yes or no"),
        ((1, 6, "邻居"), "与户主关系", "is not a known relation"),
        ((3, 5, "2014-13-45"), "出生日期", "is not a date"),
        ((0, 8, "五级"), "残疾等级", "is not a disability grade"),
        ((1, 11, "3000"), "家庭月收入(元)", "differs from row 3"),
        ((0, 2, None), "地址", "the address of household A-001 is empty"),
        ((2, 4, 110108201006201234), "身份证号", "stored as a number"),
    ],
)
def test_each_kind_of_bad_cell_is_reported_by_row_and_column(grid, tmp_path, change, column, fragment):
    """Every kind of bad cell is reported with its column and a reason a caseworker can act on."""
    rows = [row[:] for row in VENDOR]
    index, col, value = change
    for row in rows if index is None else [rows[index]]:
        row[col] = value
    result = run(write_xlsx(tmp_path / "survey.xlsx", ZH, rows + GRANNY))
    assert result.households_rejected == 1
    assert result.households_created == 1
    assert result.errors[0].column == column, result.errors
    assert fragment in result.errors[0].reason, result.errors


def test_a_control_character_in_a_member_is_reported_by_row_and_column(grid, tmp_path):
    """Text no database keeps faithfully, in a member's cell (the household's check covers
    its members once), rejects that household at the member's row and column."""
    rows = [row[:] for row in VENDOR]
    rows[3][3] = "张\x07婷"
    result = run(write_csv(tmp_path / "survey.csv", ZH, rows + GRANNY))
    assert (result.households_rejected, result.households_created) == (1, 1)
    (error,) = result.errors
    assert (error.row, error.column) == (5, "姓名")
    assert "U+0007" in error.reason


def test_each_grid_is_read_once_however_many_chunks(grid, tmp_path):
    """A grid found stays known from chunk to chunk: one read, not one per chunk."""
    with sent() as statements:
        result = run(write_csv(tmp_path / "survey.csv", ZH, VENDOR + GRANNY), batch=1)
    assert (result.households_created, result.errors) == (2, [])
    assert len([s for s in statements if s.startswith("SELECT") and "FROM grids" in s]) == 1


def test_a_household_split_across_the_sheet_is_reported(grid, tmp_path):
    """A household's rows sit together; a stray later row is reported with the row where it first appeared."""
    rows = VENDOR[:2] + GRANNY + VENDOR[2:3]
    result = run(write_xlsx(tmp_path / "survey.xlsx", ZH, rows))
    assert result.households_rejected == 1
    assert "already appeared at row 3" in result.errors[0].reason


def test_a_person_in_two_households_is_reported_on_the_second(grid, tmp_path):
    """The same ID number in a second household rejects that household, naming the row and the ID column."""
    twin = [row[:] for row in GRANNY]
    twin[0][4] = HEAD_ID
    result = run(write_xlsx(tmp_path / "survey.xlsx", ZH, VENDOR + twin))
    (error,) = result.errors
    assert (error.row, error.column) == (8, "身份证号")
    assert "already registered" in error.reason


def test_merged_cells_repeat_the_grid_and_household_number_above(grid, tmp_path):
    """Member rows with empty grid and household cells (merged cells) belong to the household above."""
    rows = [row[:] for row in VENDOR + GRANNY]
    for row in rows[1:5] + rows[6:]:
        row[0] = row[1] = None
    result = run(write_xlsx(tmp_path / "merged.xlsx", ZH, rows))
    assert result.households_created == 2
    assert not result.errors
    assert [h.member_count for h in households()] == [5, 2]


def test_sheets_that_cannot_be_read_fail_as_a_whole(grid, tmp_path):
    """A missing required column, a GBK-encoded CSV or an unknown file type stop the import with a clear message."""
    with pytest.raises(survey_sheet.SheetError, match=r"lacks the column\(s\) 家庭月收入\(元\)"):
        run(write_xlsx(tmp_path / "a.xlsx", ZH[:11], [r[:11] for r in VENDOR]))
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(",".join(ZH).encode("gbk") + b"\n")
    with pytest.raises(survey_sheet.SheetError, match="not UTF-8"):
        run(gbk)
    with pytest.raises(survey_sheet.SheetError, match=r"xlsx or a \.csv"):
        run(tmp_path / "x.ods")


def test_commits_come_in_batches(grid, tmp_path):
    """With a batch of one household, the import commits after each household (bounded memory, bounded loss)."""
    commits = []

    def commit() -> None:
        commits.append(1)
        db.commit()

    importer.import_households(
        db.session(), write_xlsx(tmp_path / "s.xlsx", ZH, VENDOR + GRANNY), commit=commit, batch=1
    )
    assert len(commits) == 3  # two households, then the final commit with the import's audit event
    assert len(households()) == 2


def test_cli_imports_prints_a_summary_and_writes_the_error_report(app, grid, tmp_path):
    """`import households FILE` imports the good, lists the bad rows, writes FILE.errors.csv, exits 1 on rejects."""
    bad = [row[:] for row in GRANNY]
    bad[0][0] = bad[1][0] = "NOWHERE"
    sheet = write_xlsx(tmp_path / "survey.xlsx", ZH, VENDOR + bad)
    result = app.test_cli_runner().invoke(args=["import", "households", str(sheet)])
    assert result.exit_code == 1, result.output
    assert "1 households created" in result.output
    assert "1 households rejected (2 rows)" in result.output
    assert "row 8, 网格编码: there is no grid NOWHERE" in result.output
    assert (tmp_path / "survey.errors.csv").exists()
    again = app.test_cli_runner().invoke(
        args=["import", "households", str(write_xlsx(tmp_path / "ok.xlsx", ZH, VENDOR))]
    )
    assert again.exit_code == 0
    assert "0 households created, 1 updated" in again.output
    missing = app.test_cli_runner().invoke(args=["import", "households", str(tmp_path / "none.xlsx")])
    assert missing.exit_code == 2


def test_unknown_columns_are_reported_once_and_the_known_ones_kept(app, grid, tmp_path):
    """A sheet with a misspelt column (同意分享 for 同意共享), a column nobody defined and a
    repeated one imports every household on its known columns, and says so once — in the
    summary and the CLI's output — naming each ignored column, the column meant, and
    nothing per row; the import's audit event lists them too."""
    header = [*ZH[:-1], "同意分享", "favourite_colour", "姓名"]
    rows = [[*row[:-1], row[-1], "红", "别名"] for row in VENDOR + GRANNY]
    sheet = write_csv(tmp_path / "typo.csv", header, rows)
    result = run(sheet)
    assert result.errors == []
    assert result.households_created == 2
    assert [(c.header, c.letter) for c in result.unknown_columns] == [
        ("同意分享", "M"),
        ("favourite_colour", "N"),
        ("姓名", "O"),
    ]
    typo, other, repeated = result.unknown_columns
    assert typo.meant == "同意共享 (consent_to_share)"
    assert other.meant is None
    assert repeated.repeated
    summary = result.summary()
    assert summary.count("warning: unknown columns") == 1
    assert "did you mean 同意共享 (consent_to_share)?" in summary
    assert "'favourite_colour' (column N)" in summary
    names = {m.name for h in households() for m in h.members}
    assert "张建国" in names  # the first 姓名 column is the one read
    assert "别名" not in names
    assert all(not h.consent_to_share for h in households())  # the misspelt column set nothing
    event = db.session().execute(select(AuditEvent).where(AuditEvent.action == "registry.imported")).scalar_one()
    assert json.loads(event.details)["unknown_columns"] == ["同意分享", "favourite_colour", "姓名"]
    out = app.test_cli_runner().invoke(args=["import", "households", str(sheet)])
    assert out.exit_code == 0, out.output
    assert out.output.count("同意分享") == 1


def test_a_typo_in_a_household_field_is_refused_naming_the_field_meant(grid):
    """The shared household schema (the API's and the import's) refuses an unknown field
    instead of dropping it: ``consent`` names ``consent_to_share``."""
    from broker.platform.errors import Invalid
    from broker.registry.household_schema import load_household

    row = {
        "grid": "HD-ZGC-01",
        "address": "海淀区中关村东路18号院3号楼2单元501",
        "monthly_income_fen": 240000,
        "consent": True,
        "members": [{"name": "张建国", "relation": "head", "birth_date": "1979-04-12"}],
    }
    with pytest.raises(Invalid) as raised:
        load_household(row)
    assert "consent_to_share" in raised.value.details["consent"][0]
    row["consent_to_share"] = row.pop("consent")
    assert load_household(row)["consent_to_share"] is True
