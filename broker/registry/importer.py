"""Import the door-to-door survey sheet (敲门行动入户调查表) into the registry.

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
备注           notes                optional
============  ===================  =========================================================

Cells left empty under a household's grid code or survey number (merged cells, as
survey sheets often have them) repeat the value above. A bad cell rejects its household
only (never the rest of the sheet); every problem is reported with its row number,
column and reason. Importing the same sheet again updates the households (keyed by grid
and survey number) instead of adding them twice."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from broker import audit
from broker.platform.errors import DomainError, Invalid
from broker.platform.input_schema import closest
from broker.registry import grids, households
from models import Grid

BATCH_HOUSEHOLDS = 200
AUDIT_PENDING = "audit"  # where broker.audit.record queues a transaction's events (Session.info)
HEADER_SEARCH_ROWS = 10


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
)
HOUSEHOLD_KEYS = ("address", "income", "consent", "phone", "sudden_hardship", "notes")
_FULLWIDTH = str.maketrans({"（": "(", "）": ")", "　": ""})


def _norm(header: Any) -> str:
    return re.sub(r"\s+", "", str(header or "").translate(_FULLWIDTH)).lower()


_BY_HEADER = {_norm(alias): c.key for c in COLUMNS for alias in (c.zh, *c.aliases)}


def _meant(header: str) -> str | None:
    """The known column an unknown header most likely means: 同意共享 (consent_to_share)."""
    found = closest(_norm(header), list(_BY_HEADER))
    if found is None:
        return None
    column = next(c for c in COLUMNS if c.key == _BY_HEADER[found])
    return f"{column.zh} ({column.aliases[0]})"


def _unknown_columns(values: tuple[Any, ...], index: dict[str, int]) -> list[UnknownColumn]:
    from openpyxl.utils import get_column_letter

    used = set(index.values())
    return [
        UnknownColumn(_text(cell), get_column_letter(i + 1), None, repeated=True)
        if _norm(cell) in _BY_HEADER
        else UnknownColumn(_text(cell), get_column_letter(i + 1), _meant(_text(cell)))
        for i, cell in enumerate(values)
        if i not in used and _text(cell)
    ]


RELATIONS = {
    "户主": "head", "本人": "head", "head": "head", "self": "head",
    "配偶": "spouse", "妻": "spouse", "妻子": "spouse", "夫": "spouse", "丈夫": "spouse", "spouse": "spouse",
    "子": "child", "女": "child", "儿子": "child", "女儿": "child", "子女": "child", "长子": "child",
    "次子": "child", "长女": "child", "次女": "child", "养子": "child", "养女": "child", "child": "child",
    "父亲": "parent", "母亲": "parent", "父": "parent", "母": "parent", "父母": "parent", "parent": "parent",
    "孙子": "grandchild", "孙女": "grandchild", "外孙": "grandchild", "外孙女": "grandchild",
    "grandchild": "grandchild",
    "祖父": "grandparent", "祖母": "grandparent", "爷爷": "grandparent", "奶奶": "grandparent",
    "外公": "grandparent", "外婆": "grandparent", "外祖父": "grandparent", "外祖母": "grandparent",
    "grandparent": "grandparent",
    "兄弟": "sibling", "姐妹": "sibling", "兄": "sibling", "弟": "sibling", "姐": "sibling", "妹": "sibling",
    "兄弟姐妹": "sibling", "sibling": "sibling",
    "儿媳": "in_law", "女婿": "in_law", "公公": "in_law", "婆婆": "in_law", "岳父": "in_law", "岳母": "in_law",
    "in_law": "in_law",
    "其他": "other", "other": "other",
}  # fmt: skip
SCHOOLING = {
    "学龄前": "preschool", "幼儿园": "preschool", "preschool": "preschool",
    "小学": "primary", "primary": "primary",
    "初中": "junior", "junior": "junior",
    "高中": "senior", "senior": "senior",
    "中职": "vocational", "职高": "vocational", "中专": "vocational", "技校": "vocational", "vocational": "vocational",
    "大学": "college", "大专": "college", "本科": "college", "研究生": "college", "college": "college",
    "无": "none", "未上学": "none", "已毕业": "none", "不在学": "none", "none": "none",
}  # fmt: skip
EMPLOYMENT = {
    "就业": "employed", "在职": "employed", "务工": "employed", "employed": "employed",
    "个体": "self_employed", "个体经营": "self_employed", "自营": "self_employed", "灵活就业": "self_employed",
    "摆摊": "self_employed", "self_employed": "self_employed",
    "失业": "unemployed", "待业": "unemployed", "无业": "unemployed", "unemployed": "unemployed",
    "退休": "retired", "retired": "retired",
    "学生": "student", "在校": "student", "student": "student",
    "无劳动能力": "unable", "丧失劳动能力": "unable", "unable": "unable",
}  # fmt: skip
GRADES = {"一级": 1, "二级": 2, "三级": 3, "四级": 4, "1": 1, "2": 2, "3": 3, "4": 4}
NO_VALUE = {"", "无", "否", "none", "no", "-", "—", "/"}
HEALTHY = {"健康", "良好", "正常", "无", "healthy", "good", "none"}
YES = {"是", "同意", "y", "yes", "true", "1", "√", "✓", "有"}
NO = {"否", "不同意", "n", "no", "false", "0", "无", "×", ""}
SEXES = {"男": "M", "女": "F", "m": "M", "f": "F", "male": "M", "female": "F"}
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


@dataclass(frozen=True)
class RowError:
    """One problem: the sheet row (as numbered in Excel), the column header, the
    household's survey number and what to do about it."""

    row: int
    column: str
    survey_ref: str
    reason: str


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


@dataclass
class ImportResult:
    rows_read: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0
    households_created: int = 0
    households_updated: int = 0
    households_rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    unknown_columns: list[UnknownColumn] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"{self.rows_read} rows read: {self.households_created} households created, "
            f"{self.households_updated} updated ({self.rows_imported} member rows); "
            f"{self.households_rejected} households rejected ({self.rows_rejected} rows)"
        )
        if self.unknown_columns:
            text += "\nwarning: unknown columns, ignored: " + ", ".join(c.describe() for c in self.unknown_columns)
        return text


class _CellError(Exception):
    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key = key
        self.reason = reason


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


# --------------------------------------------------------------------------- cells


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value).strip()


def _parse_date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise _CellError("birth_date", f"{text!r} is not a date; write it as 1985-03-02")


def _choice(key: str, value: Any, table: dict[str, Any], what: str) -> Any:
    text = _text(value)
    if text.lower() in NO_VALUE and key != "relation":
        return None
    found = table.get(text) or table.get(text.lower())
    if found is None:
        shown = "、".join(k for k in table if not k.isascii())
        raise _CellError(key, f"{text!r} is not a known {what}; use one of: {shown}")
    return found


def _yes_no(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise _CellError(key, f"{_text(value)!r} is not yes or no; write 是 or 否")


def _fen(value: Any) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        amount = Decimal(str(value))
    else:
        text = _text(value).replace(",", "").replace("，", "").removesuffix("元")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise _CellError("income", f"{_text(value)!r} is not an amount in yuan, such as 2400 or 2400.50") from None
    if amount < 0:
        raise _CellError("income", "income cannot be negative")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise _CellError("income", f"{_text(value)} has more than two decimals (fen is the smallest unit)")
    return int(fen)


def _id_number(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, float) or (isinstance(value, int) and len(str(value)) > 15):
        raise _CellError(
            "id_number", "the ID number was stored as a number and Excel has lost digits; format the column as text"
        )
    return _text(value).upper().replace(" ", "") or None


def _conditions(value: Any) -> list[str]:
    text = _text(value)
    parts = [p.strip() for p in re.split(r"[、，,;；/]+", text) if p.strip()]
    return [p for p in parts if p.lower() not in HEALTHY]


def _grade(value: Any) -> int | None:
    text = _text(value)
    if text.lower() in NO_VALUE:
        return None
    grade = GRADES.get(text) or GRADES.get(text.removesuffix("级"))
    if grade is None:
        raise _CellError("disability_grade", f"{text!r} is not a disability grade; use 一级 to 四级, or leave it empty")
    return grade


def parse_member(cells: dict[str, Any]) -> dict[str, Any]:
    """The member of one row, as the registry's household schema takes it."""
    name = _text(cells.get("name"))
    if not name:
        raise _CellError("name", "the name is empty")
    member: dict[str, Any] = {"name": name}
    number = _id_number(cells.get("id_number"))
    if number:
        member["id_number"] = number
    born = _parse_date(cells.get("birth_date"))
    if born:
        member["birth_date"] = born.isoformat()
    if _text(cells.get("sex")):
        member["sex"] = _choice("sex", cells["sex"], SEXES, "sex")
    relation = _text(cells.get("relation"))
    if relation:
        member["relation"] = _choice("relation", relation, RELATIONS, "relation to the head")
    conditions = _conditions(cells.get("health"))
    if conditions:
        member["conditions"] = conditions
    grade = _grade(cells.get("disability_grade"))
    if grade is not None:
        member["disability_grade"] = grade
    for key, table, what in (("schooling", SCHOOLING, "schooling"), ("employment", EMPLOYMENT, "employment")):
        if _text(cells.get(key)):
            choice = _choice(key, cells[key], table, what)
            if choice is not None:
                member[key] = choice
    return member


def _household_value(key: str, value: Any) -> Any:
    if key == "income":
        return _fen(value)
    if key in ("consent", "sudden_hardship"):
        return _yes_no(key, value)
    return _text(value)


# --------------------------------------------------------------------------- households


@dataclass
class _Group:
    grid: str
    survey_ref: str
    first_row: int
    rows: list[int] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    household: dict[str, Any] = field(default_factory=dict)
    set_at: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)


# Field names in the registry's validation errors → our column keys.
_SCHEMA_KEYS = {
    "address": "address",
    "monthly_income_fen": "income",
    "consent_to_share": "consent",
    "sudden_hardship": "sudden_hardship",
    "phone": "phone",
    "notes": "notes",
    "survey_ref": "survey_ref",
    "head_name": "name",
    "grid": "grid",
    "name": "name",
    "id_number": "id_number",
    "birth_date": "birth_date",
    "sex": "sex",
    "relation": "relation",
    "conditions": "health",
    "disability_grade": "disability_grade",
    "schooling": "schooling",
    "employment": "employment",
}


class _Importer:
    def __init__(
        self,
        session: Session,
        actor: str,
        commit: Callable[[], None],
        progress: Callable[[int], None] | None,
        batch: int,
    ) -> None:
        self.session = session
        self.actor = actor
        self.commit = commit
        self.progress = progress or (lambda _n: None)
        self.batch = batch
        self.result = ImportResult()
        self.headers: dict[str, str] = {}
        self.index: dict[str, int] = {}
        self.grids: dict[str, Grid | None] = {}
        self.seen: dict[tuple[str, str], int] = {}
        self.pending = 0

    def column(self, key: str) -> str:
        return self.headers.get(key) or next(c.zh for c in COLUMNS if c.key == key)

    def find_header(self, rows: Iterator[tuple[int, tuple[Any, ...]]]) -> None:
        for number, values in rows:
            found = {}
            for i, cell in enumerate(values):
                key = _BY_HEADER.get(_norm(cell))
                if key and key not in found:
                    found[key] = i
                    self.headers[key] = _text(cell)
            if len(found) >= 3:
                missing = [c for c in COLUMNS if c.required and c.key not in found]
                if missing:
                    raise SheetError(
                        f"row {number} is the header, but it lacks the column(s) "
                        + ", ".join(f"{c.zh} ({c.aliases[0]})" for c in missing)
                        + "."
                    )
                self.index = found
                self.result.unknown_columns = _unknown_columns(values, found)
                return
            self.headers.clear()
            if number >= HEADER_SEARCH_ROWS:
                break
        raise SheetError(
            f"no header row found in the first {HEADER_SEARCH_ROWS} rows; the sheet needs the columns "
            + ", ".join(f"{c.zh} ({c.aliases[0]})" for c in COLUMNS if c.required)
            + "."
        )

    def cells(self, values: tuple[Any, ...]) -> dict[str, Any]:
        return {key: (values[i] if i < len(values) else None) for key, i in self.index.items()}

    def run(self, path: str | Path) -> ImportResult:
        rows = iter_sheet(path)
        self.find_header(rows)
        group: _Group | None = None
        for number, values in rows:
            if not any(_text(v) for v in values):
                continue
            self.result.rows_read += 1
            self.progress(1)
            cells = self.cells(values)
            grid, ref = _text(cells.get("grid")), _text(cells.get("survey_ref"))
            if group is not None:  # merged cells: an empty grid or household number repeats the one above
                if not ref and (not grid or grid == group.grid):
                    grid, ref = group.grid, group.survey_ref
                grid = grid or group.grid
            if not grid or not ref:
                key = "grid" if not grid else "survey_ref"
                self.reject_row(
                    number, key, ref, f"{self.column(key)} is empty: every row names its grid and household"
                )
                continue
            if group is None or (group.grid, group.survey_ref) != (grid, ref):
                if group is not None:
                    self.finish(group)
                first = self.seen.get((grid, ref))
                group = _Group(grid, ref, number)
                self.seen[(grid, ref)] = number
                if first is not None:
                    group.errors.append(
                        RowError(
                            number,
                            self.column("survey_ref"),
                            ref,
                            f"household {ref} on grid {grid} already appeared at row {first}: "
                            "keep each household's rows together",
                        )
                    )
            self.add_row(group, number, cells)
        if group is not None:
            self.finish(group)
        self.flush_batch(final=True)
        return self.result

    def reject_row(self, number: int, key: str, ref: str, reason: str) -> None:
        self.result.errors.append(RowError(number, self.column(key), ref, reason))
        self.result.rows_rejected += 1

    def add_row(self, group: _Group, number: int, cells: dict[str, Any]) -> None:
        group.rows.append(number)
        try:
            member = parse_member(cells)
            if "relation" not in member:
                if group.members:
                    raise _CellError("relation", "the relation to the head is empty")
                member["relation"] = "head"
            for key in HOUSEHOLD_KEYS:
                raw = cells.get(key)
                if key not in self.index or not _text(raw):
                    continue
                value = _household_value(key, raw)
                if key in group.household and group.household[key] != value:
                    raise _CellError(
                        key, f"differs from row {group.set_at[key]} of the same household; give it once, or the same"
                    )
                group.household[key] = value
                group.set_at.setdefault(key, number)
        except _CellError as exc:
            group.errors.append(RowError(number, self.column(exc.key), group.survey_ref, exc.reason))
            group.members.append({})
            return
        group.members.append(member)

    def finish(self, group: _Group) -> None:
        if not group.errors:
            for key, what in (("address", "the address"), ("income", "the monthly income")):
                if key not in group.household:
                    group.errors.append(
                        RowError(
                            group.first_row,
                            self.column(key),
                            group.survey_ref,
                            f"{what} of household {group.survey_ref} is empty; give it on the head's row",
                        )
                    )
        grid = None
        if not group.errors:
            grid = self.grid(group.grid)
            if grid is None:
                group.errors.append(
                    RowError(
                        group.first_row,
                        self.column("grid"),
                        group.survey_ref,
                        f"there is no grid {group.grid}; an administrator creates grids first, or correct the code",
                    )
                )
        if not group.errors:
            self.save(group, grid)
        if group.errors:
            self.reject(group)
            return
        self.result.rows_imported += len(group.rows)
        self.pending += 1
        if self.pending >= self.batch:
            self.flush_batch()

    def grid(self, code: str) -> Grid | None:
        if code not in self.grids:
            self.grids[code] = grids.grid_by_code(self.session, code)
        return self.grids[code]

    def save(self, group: _Group, grid: Grid) -> None:
        h = group.household
        row: dict[str, Any] = {
            "survey_ref": group.survey_ref,
            "address": h["address"],
            "monthly_income_fen": h["income"],
            "consent_to_share": h.get("consent", False),
            "sudden_hardship": h.get("sudden_hardship", False),
            "members": group.members,
        }
        if h.get("phone"):
            row["phone"] = h["phone"]
        if h.get("notes"):
            row["notes"] = h["notes"]
        # One household, all or nothing: a savepoint. SQLAlchemy fires the commit hooks on
        # a savepoint's release too, and the audit log writes and anchors its chain on
        # them; so this batch's audit events are held aside around the savepoint and
        # written once, with the batch's real commit (an anchor never runs ahead of data
        # a crash could still roll back). A rejected household's events are dropped.
        held = self.session.info.pop(AUDIT_PENDING, [])
        savepoint = self.session.begin_nested()
        try:
            _household, created = households.upsert_household_from_survey(self.session, self.actor, grid, row)
            mine = self.session.info.pop(AUDIT_PENDING, [])
            savepoint.commit()
        except DomainError as exc:
            self.session.info.pop(AUDIT_PENDING, None)
            savepoint.rollback()
            self.session.info[AUDIT_PENDING] = held
            group.errors += self.explain(group, exc)
            return
        self.session.info[AUDIT_PENDING] = held + mine
        if created:
            self.result.households_created += 1
        else:
            self.result.households_updated += 1

    def explain(self, group: _Group, exc: DomainError) -> list[RowError]:
        """Map the registry's field errors (members.2.id_number …) to rows and columns."""
        out: list[RowError] = []
        details = dict(exc.details or {})
        if "member_index" in details and details["member_index"] is not None:
            row = group.rows[int(details["member_index"])]
            return [RowError(row, self.column("id_number"), group.survey_ref, exc.message)]
        for name, messages in details.items():
            parts = str(name).split(".")
            row = group.first_row
            if parts[0] == "members" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(group.rows):
                row = group.rows[int(parts[1])]
                parts = parts[2:] or ["name"]
            key = _SCHEMA_KEYS.get(parts[0], "name")
            text = "; ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
            out.append(RowError(row, self.column(key), group.survey_ref, text))
        return out or [RowError(group.first_row, self.column("survey_ref"), group.survey_ref, exc.message)]

    def reject(self, group: _Group) -> None:
        span = f"row {group.rows[0]}" if len(group.rows) == 1 else f"rows {group.rows[0]}–{group.rows[-1]}"
        note = f" — household {group.survey_ref} ({span}) not imported"
        self.result.errors += [RowError(e.row, e.column, e.survey_ref, e.reason + note) for e in group.errors]
        self.result.households_rejected += 1
        self.result.rows_rejected += len(group.rows)

    def flush_batch(self, *, final: bool = False) -> None:
        if final:
            audit.record(
                self.session,
                "registry.imported",
                object_type="import",
                actor=self.actor,
                details={
                    "rows": self.result.rows_read,
                    "created": self.result.households_created,
                    "updated": self.result.households_updated,
                    "rejected": self.result.households_rejected,
                    "unknown_columns": [c.header for c in self.result.unknown_columns],
                },
            )
        self.commit()
        self.session.expunge_all()
        self.grids.clear()
        self.pending = 0


def import_households(
    session: Session,
    path: str | Path,
    *,
    commit: Callable[[], None],
    actor: str = "cli:import",
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH_HOUSEHOLDS,
) -> ImportResult:
    """Import a survey sheet through the registry (create or update by grid and survey
    number). ``commit`` is called every ``batch`` households so that a large sheet
    keeps memory bounded and a crash loses at most one batch; ``progress(n)`` is told
    of every ``n`` rows read. Raises :class:`SheetError` if the sheet cannot be read at
    all; bad rows are in the result's ``errors``."""
    if batch < 1:
        raise Invalid("batch must be at least 1", details={"batch": ["must be at least 1"]})
    return _Importer(session, actor, commit, progress, batch).run(path)


def write_error_report(errors: list[RowError], path: str | Path) -> Path:
    """The problems as a CSV (UTF-8 with BOM, so that Excel shows the Chinese)."""
    path = Path(path)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["行号 row", "列 column", "户编号 household", "原因 reason"])
        for e in errors:
            writer.writerow([e.row, e.column, e.survey_ref, e.reason])
    return path


def default_error_path(sheet: str | Path) -> Path:
    """Next to the sheet: ``survey.xlsx`` → ``survey.errors.csv``."""
    sheet = Path(sheet)
    return sheet.with_name(f"{sheet.stem}.errors.csv")
