"""Special groups in the door-to-door survey sheet: a 特殊群体 column per member, recorded
with the source "survey"; re-importing adds nothing; a value that is no group rejects the
household with its row and column, as any bad cell does."""

from __future__ import annotations

from sqlalchemy import select

from broker import audit
from broker.platform import db
from broker.registry import importer
from models import Member, SpecialGroupMember
from tests.registry.test_import import GRANNY, VENDOR, ZH, grid, write_xlsx  # noqa: F401 - grid: the fixture

HEADER = [*ZH, "特殊群体"]


def _rows(granny_groups: str, grandson_groups: str) -> list[list]:
    rows = [[*row, None] for row in VENDOR]
    rows += [[*GRANNY[0], granny_groups], [*GRANNY[1], grandson_groups]]
    return rows


def _recorded() -> list[tuple[str, str, str]]:
    found = db.session().execute(
        select(Member.name, SpecialGroupMember.group, SpecialGroupMember.source)
        .join(Member, Member.id == SpecialGroupMember.member_id)
        .order_by(Member.name, SpecialGroupMember.group)
    )
    return [tuple(r) for r in found.all()]


def test_the_survey_records_special_groups_once(grid, tmp_path):  # noqa: F811 - the fixture
    sheet = write_xlsx(tmp_path / "survey.xlsx", HEADER, _rows("孤寡老人、残疾人", "留守儿童"))
    result = importer.import_households(db.session(), sheet, commit=db.commit)
    assert result.errors == []
    assert _recorded() == [
        ("王子涵", "left_behind_child", "survey"),
        ("王桂英", "disabled", "survey"),
        ("王桂英", "elderly_alone", "survey"),
    ]
    again = importer.import_households(db.session(), sheet, commit=db.commit)
    assert again.households_updated == 2
    assert len(_recorded()) == 3
    assert audit.verify(db.session()).ok


def test_a_value_that_is_no_group_is_reported_by_row_and_column(grid, tmp_path):  # noqa: F811 - the fixture
    sheet = write_xlsx(tmp_path / "survey.xlsx", HEADER, _rows("", "孤儿"))
    result = importer.import_households(db.session(), sheet, commit=db.commit)
    assert result.households_created == 1
    (error,) = result.errors
    assert (error.row, error.column, error.survey_ref) == (9, "特殊群体", "A-002")
    assert "'孤儿' is not a special group" in error.reason
    assert _recorded() == []
