"""One survey row to a registry record, and the registry's verdict back to rows.

The value vocabularies (relation, schooling, employment, disability grade, yes/no,
dates, yuan to fen) turn one row's cells into a member as the household schema takes
it, raising :class:`CellError` naming the column at fault; a household's rows are
gathered in :class:`HouseholdRows`; :func:`explain` maps the registry's field errors
(``members.2.id_number`` …) back to sheet rows and columns as :class:`RowError`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from broker.platform.errors import DomainError
from broker.registry.survey_sheet import cell_text
from models.special_groups import SPECIAL_GROUPS

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
DISABILITY_KINDS = {
    "视力": "visual", "视力残疾": "visual", "visual": "visual",
    "听力": "hearing", "听力残疾": "hearing", "hearing": "hearing",
    "言语": "speech", "言语残疾": "speech", "speech": "speech",
    "肢体": "physical", "肢体残疾": "physical", "physical": "physical",
    "智力": "intellectual", "智力残疾": "intellectual", "intellectual": "intellectual",
    "精神": "mental", "精神残疾": "mental", "mental": "mental",
    "多重": "multiple", "多重残疾": "multiple", "multiple": "multiple",
}  # fmt: skip
RESIDENCES = {"城镇": "urban", "城市": "urban", "非农": "urban", "urban": "urban",
              "农村": "rural", "农业": "rural", "rural": "rural"}  # fmt: skip
PERIODS = {"每月": "monthly", "月": "monthly", "monthly": "monthly", "每年": "yearly", "年": "yearly",
           "全年": "yearly", "yearly": "yearly"}  # fmt: skip
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


class CellError(Exception):
    """A cell that cannot be read: its column key and what is wrong with it."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key = key
        self.reason = reason


def _parse_date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = cell_text(value)
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise CellError("birth_date", f"{text!r} is not a date; write it as 1985-03-02")


def _choice(key: str, value: Any, table: dict[str, Any], what: str) -> Any:
    text = cell_text(value)
    if text.lower() in NO_VALUE and key != "relation":
        return None
    found = table.get(text) or table.get(text.lower())
    if found is None:
        shown = "、".join(k for k in table if not k.isascii())
        raise CellError(key, f"{text!r} is not a known {what}; use one of: {shown}")
    return found


def _yes_no(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = cell_text(value).lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise CellError(key, f"{cell_text(value)!r} is not yes or no; write 是 or 否")


def _fen(value: Any, key: str = "income") -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        amount = Decimal(str(value))
    else:
        text = cell_text(value).replace(",", "").replace("，", "").removesuffix("元")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise CellError(key, f"{cell_text(value)!r} is not an amount in yuan, such as 2400 or 2400.50") from None
    if amount < 0:
        raise CellError(key, "the amount cannot be negative")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise CellError(key, f"{cell_text(value)} has more than two decimals (fen is the smallest unit)")
    return int(fen)


def _count(key: str, value: Any) -> int:
    text = cell_text(value).removesuffix("辆")
    if text.lower() in NO_VALUE:
        return 0
    if not text.isascii() or not text.isdigit():
        raise CellError(key, f"{cell_text(value)!r} is not a whole number, such as 0 or 1")
    return int(text)


def _id_number(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, float) or (isinstance(value, int) and len(str(value)) > 15):
        raise CellError(
            "id_number", "the ID number was stored as a number and Excel has lost digits; format the column as text"
        )
    return cell_text(value).upper().replace(" ", "") or None


def _conditions(value: Any) -> list[str]:
    text = cell_text(value)
    parts = [p.strip() for p in re.split(r"[、，,;；/]+", text) if p.strip()]
    return [p for p in parts if p.lower() not in HEALTHY]


def _grade(value: Any) -> int | None:
    text = cell_text(value)
    if text.lower() in NO_VALUE:
        return None
    grade = GRADES.get(text) or GRADES.get(text.removesuffix("级"))
    if grade is None:
        raise CellError("disability_grade", f"{text!r} is not a disability grade; use 一级 to 四级, or leave it empty")
    return grade


GROUPS = {
    "留守儿童": "left_behind_child",
    "困境儿童": "child_in_difficulty",
    "流动儿童": "migrant_child",
    "孤寡老人": "elderly_alone",
    "独居老人": "elderly_alone",
    "残疾人": "disabled",
    "残疾": "disabled",
    **{code: code for code in SPECIAL_GROUPS},
}


def parse_groups(value: Any) -> list[str]:
    """The special groups of one row's member (none for an empty cell)."""
    found = []
    for part in (p.strip() for p in re.split(r"[、，,;；/]+", cell_text(value))):
        if not part or part.lower() in NO_VALUE:
            continue
        group = GROUPS.get(part) or GROUPS.get(part.lower())
        if group is None:
            raise CellError(
                "special_groups",
                f"{part!r} is not a special group; use 留守儿童, 困境儿童, 流动儿童, 孤寡老人 or 残疾人",
            )
        if group not in found:
            found.append(group)
    return found


def parse_member(cells: dict[str, Any]) -> dict[str, Any]:
    """The member of one row, as the registry's household schema takes it."""
    name = cell_text(cells.get("name"))
    if not name:
        raise CellError("name", "the name is empty")
    member: dict[str, Any] = {"name": name}
    number = _id_number(cells.get("id_number"))
    if number:
        member["id_number"] = number
    born = _parse_date(cells.get("birth_date"))
    if born:
        member["birth_date"] = born.isoformat()
    if cell_text(cells.get("sex")):
        member["sex"] = _choice("sex", cells["sex"], SEXES, "sex")
    relation = cell_text(cells.get("relation"))
    if relation:
        member["relation"] = _choice("relation", relation, RELATIONS, "relation to the head")
    conditions = _conditions(cells.get("health"))
    if conditions:
        member["conditions"] = conditions
    grade = _grade(cells.get("disability_grade"))
    if grade is not None:
        member["disability_grade"] = grade
    if cell_text(cells.get("supporter_able")):
        member["supporter_able"] = _yes_no("supporter_able", cells["supporter_able"])
    for key, table, what in (
        ("schooling", SCHOOLING, "schooling"),
        ("employment", EMPLOYMENT, "employment"),
        ("disability_kind", DISABILITY_KINDS, "kind of disability"),
    ):
        if cell_text(cells.get(key)):
            choice = _choice(key, cells[key], table, what)
            if choice is not None:
                member[key] = choice
    return member


def household_value(key: str, value: Any) -> Any:
    if key in ("income", "financial_assets", "medical_spending"):
        return _fen(value, key)
    if key in ("consent", "sudden_hardship", "surplus_housing"):
        return _yes_no(key, value)
    if key == "motor_vehicles":
        return _count(key, value)
    if key == "residence":
        return _choice(key, value, RESIDENCES, "residence (城镇 or 农村)")
    if key == "medical_spending_period":
        return _choice(key, value, PERIODS, "period (每月 or 每年)")
    return cell_text(value)


@dataclass
class HouseholdRows:
    """One household's rows as read so far: its members, household-level values and problems."""

    grid: str
    survey_ref: str
    first_row: int
    rows: list[int] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    household: dict[str, Any] = field(default_factory=dict)
    set_at: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    # Member name → the special groups its row named (recorded after the household is saved).
    groups: dict[str, list[str]] = field(default_factory=dict)


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
    "disability_kind": "disability_kind",
    "supporter_able": "supporter_able",
    "residence": "residence",
    "financial_assets_fen": "financial_assets",
    "motor_vehicles": "motor_vehicles",
    "surplus_housing": "surplus_housing",
    "medical_spending_fen": "medical_spending",
    "medical_spending_period": "medical_spending_period",
}


def explain(group: HouseholdRows, exc: DomainError, column: Callable[[str], str]) -> list[RowError]:
    """Map the registry's field errors (members.2.id_number …) to rows and columns."""
    out: list[RowError] = []
    details = dict(exc.details or {})
    if "member_index" in details and details["member_index"] is not None:
        row = group.rows[int(details["member_index"])]
        return [RowError(row, column("id_number"), group.survey_ref, exc.message)]
    for name, messages in details.items():
        parts = str(name).split(".")
        row = group.first_row
        if parts[0] == "members" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(group.rows):
            row = group.rows[int(parts[1])]
            parts = parts[2:] or ["name"]
        key = _SCHEMA_KEYS.get(parts[0], "name")
        text = "; ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
        out.append(RowError(row, column(key), group.survey_ref, text))
    return out or [RowError(group.first_row, column("survey_ref"), group.survey_ref, exc.message)]
