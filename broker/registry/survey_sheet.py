"""The door-to-door survey sheet (敲门行动入户调查表): its columns and how it is read.

The sheet is XLSX (read streaming) or CSV (UTF-8, with or without BOM), **one row per
member**; the rows of one household sit together and share its survey number (户编号)
on the same grid (网格编码). A household may also be given as a single row with the
head only. Household-level columns (address, income, consent, phone, hardship, notes)
may be filled on the head's row only, or repeated identically on every row.

Headers, Chinese or English (case, spaces and full-width brackets do not matter):

============  ===================  =========================================================
中文           English              value
============  ===================  =========================================================
网格编码       grid_code            the grid's code (required)
户编号         household_ref        the survey household number (required; the re-import key)
地址           address              the household's address (required, on one row at least)
姓名           name                 the member's name (required)
身份证号       id_number            18 characters; format the column as text in Excel
出生日期       birth_date           a date cell, or 1985-03-02, 1985/3/2, 19850302
性别           sex                  男/女 or M/F (read from the ID number when empty)
与户主关系     relation             户主 本人 配偶 子 女 儿子 女儿 父亲 母亲 孙子 孙女 兄弟 …,
                                   or head, spouse, child, parent, grandchild, grandparent,
                                   sibling, in_law, other (empty on a one-row household: head)
健康状况       health               健康, or conditions separated by 、，, ; e.g. 白血病、高血压
残疾等级       disability_grade     一级 … 四级, or 1–4; empty or 无 for none
就学情况       schooling            学龄前 小学 初中 高中 中职 大学 无, or the English codes
就业情况       employment           就业 个体 灵活就业 失业 退休 学生 无劳动能力, or the codes
家庭月收入(元)  monthly_income_yuan  the household's monthly income in yuan (up to 2 decimals)
同意共享       consent_to_share     是/否, 同意/不同意, Y/N, yes/no, true/false, 1/0
联系电话       phone                optional
突发困难       sudden_hardship      optional, 是/否
残疾类别       disability_kind      optional: 视力 听力 言语 肢体 智力 精神 多重, or the codes
有能力的法定义务人 supporter_able    optional: 有/无 (是/否): a legal supporter able to
                                   support the member (法定赡养、抚养、扶养义务人)
城乡           residence            optional: 城镇/农村 (also 非农/农业, urban/rural)
家庭金融资产(元) financial_assets_yuan optional: deposits, securities, … in yuan
机动车(辆)     motor_vehicles       optional: how many motor vehicles the household owns
超需住房       surplus_housing      optional, 是/否: housing beyond the household's need
自付医疗费用(元) medical_spending_yuan optional: rigid medical spending paid out of pocket
医疗费用周期   medical_spending_period optional: 每月/每年 (月/年, monthly/yearly); default 每月
备注           notes                optional
特殊群体       special_groups       optional, per member: 留守儿童 困境儿童 流动儿童 孤寡老人 残疾人,
                                   separated by 、，, ; or the English codes (recorded with
                                   the source "survey" and the import's date)
============  ===================  =========================================================

This module holds the column map (headers in either language, unknown headers with
the column they most likely mean), a cell's text, and the streaming readers; turning a
row into a member is :mod:`.survey_rows`, the import itself :mod:`.importer`."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from broker.platform.input_schema import closest


class SheetError(Exception):
    """The whole sheet cannot be imported (unreadable, wrong encoding, no header)."""


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    aliases: tuple[str, ...]
    required: bool = False


COLUMNS = (
    Column("grid", "网格编码", ("grid_code", "grid", "网格"), required=True),
    Column("survey_ref", "户编号", ("household_ref", "survey_ref", "household_no", "户号"), required=True),
    Column("address", "地址", ("address", "家庭住址", "住址"), required=True),
    Column("name", "姓名", ("name",), required=True),
    Column("id_number", "身份证号", ("id_number", "身份证号码", "公民身份号码")),
    Column("birth_date", "出生日期", ("birth_date", "birthdate", "date_of_birth")),
    Column("sex", "性别", ("sex", "gender")),
    Column("relation", "与户主关系", ("relation", "relationship")),
    Column("health", "健康状况", ("health", "conditions")),
    Column("disability_grade", "残疾等级", ("disability_grade", "disability")),
    Column("schooling", "就学情况", ("schooling", "school")),
    Column("employment", "就业情况", ("employment", "work")),
    Column(
        "income", "家庭月收入(元)", ("monthly_income_yuan", "monthly_income", "家庭月收入", "月收入(元)"), required=True
    ),
    Column("consent", "同意共享", ("consent_to_share", "consent", "是否同意共享")),
    Column("phone", "联系电话", ("phone", "电话", "手机")),
    Column("sudden_hardship", "突发困难", ("sudden_hardship", "hardship", "是否突发困难")),
    Column("notes", "备注", ("notes", "note", "remarks")),
    Column("disability_kind", "残疾类别", ("disability_kind", "残疾类型")),
    Column("supporter_able", "有能力的法定义务人", ("supporter_able", "法定义务人", "有无法定赡养人")),
    Column("residence", "城乡", ("residence", "户籍类型", "城乡类别")),
    Column("financial_assets", "家庭金融资产(元)", ("financial_assets_yuan", "financial_assets", "金融资产")),
    Column("motor_vehicles", "机动车(辆)", ("motor_vehicles", "机动车", "车辆")),
    Column("surplus_housing", "超需住房", ("surplus_housing", "多套住房")),
    Column("medical_spending", "自付医疗费用(元)", ("medical_spending_yuan", "medical_spending", "自付医疗费用")),
    Column("medical_spending_period", "医疗费用周期", ("medical_spending_period", "医疗费用期间")),
    Column("special_groups", "特殊群体", ("special_groups", "special_group", "group")),
)
HOUSEHOLD_KEYS = (
    "address",
    "income",
    "consent",
    "phone",
    "sudden_hardship",
    "notes",
    "residence",
    "financial_assets",
    "motor_vehicles",
    "surplus_housing",
    "medical_spending",
    "medical_spending_period",
)
_FULLWIDTH = str.maketrans({"（": "(", "）": ")", "　": ""})


def norm_header(header: Any) -> str:
    return re.sub(r"\s+", "", str(header or "").translate(_FULLWIDTH)).lower()


BY_HEADER = {norm_header(alias): c.key for c in COLUMNS for alias in (c.zh, *c.aliases)}


def _meant(header: str) -> str | None:
    """The known column an unknown header most likely means: 同意共享 (consent_to_share)."""
    found = closest(norm_header(header), list(BY_HEADER))
    if found is None:
        return None
    column = next(c for c in COLUMNS if c.key == BY_HEADER[found])
    return f"{column.zh} ({column.aliases[0]})"


def unknown_columns(values: tuple[Any, ...], index: dict[str, int]) -> list[UnknownColumn]:
    used = set(index.values())
    unknown = [(i, cell) for i, cell in enumerate(values) if i not in used and cell_text(cell)]
    if not unknown:
        return []  # (and a CSV import does not load openpyxl)
    from openpyxl.utils import get_column_letter

    return [
        UnknownColumn(cell_text(cell), get_column_letter(i + 1), None, repeated=True)
        if norm_header(cell) in BY_HEADER
        else UnknownColumn(cell_text(cell), get_column_letter(i + 1), _meant(cell_text(cell)))
        for i, cell in unknown
    ]


@dataclass(frozen=True)
class UnknownColumn:
    """A header the import does not know, so its column was ignored (reported once, not
    per row): where it is, and the known column it most likely means, if any."""

    header: str
    letter: str
    meant: str | None
    repeated: bool = False  # a known header given twice: only its first column is read

    def describe(self) -> str:
        if self.repeated:
            return f"{self.header!r} (column {self.letter}) repeats an earlier column"
        hint = f"; did you mean {self.meant}?" if self.meant else ""
        return f"{self.header!r} (column {self.letter}){hint}"


def blank_row(values: tuple[Any, ...]) -> bool:
    """Whether no cell of the row holds anything (as ``cell_text`` of each is empty)."""
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value).strip()


# --------------------------------------------------------------------------- reading


def _sheet_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".csv", ".txt"):
        return "csv"
    raise SheetError(f"{path.name}: give an .xlsx or a .csv file (UTF-8); {suffix or 'no extension'} is not read.")


def iter_sheet(path: str | Path) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """Stream (row number, cell values) from the first worksheet or the CSV, without
    loading the file whole."""
    path = Path(path)
    fmt = _sheet_format(path)
    if not path.is_file():
        raise SheetError(f"{path.name}: no such file.")
    if fmt == "xlsx":
        yield from _iter_xlsx(path)
    else:
        yield from _iter_csv(path)


def _iter_xlsx(path: Path) -> Iterator[tuple[int, tuple[Any, ...]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the same problem to the user
        raise SheetError(f"{path.name}: not a readable .xlsx workbook ({type(exc).__name__}).") from None
    try:
        sheet = workbook.worksheets[0]
        yield from enumerate(sheet.iter_rows(values_only=True), start=1)
    finally:
        workbook.close()


def _iter_csv(path: Path) -> Iterator[tuple[int, tuple[Any, ...]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        try:
            sample = fh.read(8192)
            fh.seek(0)
        except UnicodeDecodeError:
            raise SheetError(
                f"{path.name}: the file is not UTF-8 (Excel's plain CSV is GBK). Save it as 'CSV UTF-8' or as .xlsx."
            ) from None
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(fh, dialect)
        try:
            for number, values in enumerate(reader, start=1):
                yield number, tuple(values)
        except UnicodeDecodeError:
            raise SheetError(
                f"{path.name}: the file is not UTF-8 after row {reader.line_num}. Save it as 'CSV UTF-8' or as .xlsx."
            ) from None


def count_rows(path: str | Path) -> int | None:
    """A quick estimate of the data rows, for the progress bar (None if unknown)."""
    path = Path(path)
    try:
        if _sheet_format(path) == "xlsx":
            from openpyxl import load_workbook

            workbook = load_workbook(path, read_only=True)
            try:
                rows = workbook.worksheets[0].max_row
            finally:
                workbook.close()
            return max(rows - 1, 0) if rows else None
        with path.open("rb") as fh:
            return max(sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")) - 1, 0)
    except (OSError, SheetError, ValueError, KeyError):
        return None
