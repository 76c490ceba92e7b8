"""The facts a household's policy rules and routing read, derived from its members.

They are stored as plain columns on :class:`models.Household` so that "who qualifies"
is a column filter over the whole registry (政策找人), and are recomputed by
:func:`refresh` whenever members, income or birthdays could have changed them. Ages are
counted on ``today`` in the broker's time zone (a child turns 6 on the birthday).

Definitions (the policy rule language relies on exactly these):

- ``member_count``: living members of the household (a member recorded as deceased
  stays in the record and counts for nothing here).
- ``income_per_capita_fen``: ``monthly_income_fen // member_count`` (whole fen, rounded
  down); with no members recorded yet it is the whole monthly income.
- ``school_age_children``: members aged 6 to 18 inclusive, and members still in school
  below college: ``schooling`` primary, junior, senior or vocational with ``employment``
  ``student`` (a 19-year-old at a vocational school), or with neither age nor employment
  recorded. (For adults ``schooling`` is the level attained, so a vendor who finished
  junior school is not counted.)
- ``elderly_count``: members aged 60 or more.
- ``disabled_count``: members with a ``disability_grade`` (1-4) or the condition
  ``disability``.
- ``severe_disabled_count``: members with a disability of grade 1 or 2 (重度残疾), the
  grades the nursing subsidy and extreme-poverty support name.
- ``students_count``: members in education from preschool to university: the school-age
  children above, children aged 3 to 5 (or recorded at ``preschool``), and members at
  ``college`` whose ``employment`` is ``student``.
- ``serious_illness``: true when any member has a condition in
  :data:`SERIOUS_CONDITIONS` (the city's list of serious illnesses for medical
  assistance: leukaemia, cancer, uraemia, …), in English or Chinese, as written in the
  registry or as said at the door (大病, 重病, 肺癌: any diagnosis ending in 癌, naming
  白血病 or a malignant 恶性 tumour).
- ``unemployed_count``: members whose ``employment`` is ``unemployed``.
- ``minors_count``: members under 18 (未成年人).
- ``unsupported_count``: members extreme-poverty support (特困) can be for — aged 60 or
  more, under 18, or disabled at the grades it names (grade 1 or 2 of any kind, grade 3
  intellectual or mental) — for whom the caseworker recorded that no legal supporter is
  able to support them (``supporter_able`` false: 无法定赡养、抚养、扶养义务人，或者
  其法定义务人无履行义务能力). Not recorded counts as supported.
- ``financial_assets_per_capita_fen``: ``financial_assets_fen // member_count``.
- ``medical_spending_monthly_fen``: rigid medical spending (自付医疗费用) per month; a
  yearly figure is divided by 12 (rounded down).
- ``income_after_medical_per_capita_fen``: ``max(0, monthly income − monthly medical
  spending) // member_count``: the income expense-type poverty (支出型贫困) and the
  medical assistance of people impoverished by illness (因病致贫) are judged on.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from broker.platform import runtime
from models import Household

# The derived fact columns, in the order they are shown.
FACT_COLUMNS = (
    "member_count",
    "income_per_capita_fen",
    "school_age_children",
    "elderly_count",
    "disabled_count",
    "severe_disabled_count",
    "students_count",
    "serious_illness",
    "unemployed_count",
    "minors_count",
    "unsupported_count",
    "financial_assets_per_capita_fen",
    "medical_spending_monthly_fen",
    "income_after_medical_per_capita_fen",
)
SEVERE_GRADES = (1, 2)
# Grade 3 counts for extreme-poverty support only for these kinds of disability.
GRADE_3_KINDS = frozenset({"intellectual", "mental"})
ADULT_AGE = 18
PRESCHOOL_AGE = (3, 5)
SCHOOL_AGE = (6, 18)
ELDERLY_AGE = 60
IN_SCHOOL = frozenset({"primary", "junior", "senior", "vocational"})
DISABILITY_CONDITION = "disability"

#: Conditions that count as a serious illness (重大疾病). Codes are compared lower-case,
#: with spaces and hyphens read as underscores.
SERIOUS_CONDITIONS = frozenset(
    {
        "serious_illness",
        "leukaemia",
        "leukemia",
        "cancer",
        "malignant_tumour",
        "malignant_tumor",
        "uraemia",
        "uremia",
        "renal_failure",
        "organ_transplant",
        "aplastic_anaemia",
        "aplastic_anemia",
        "haemophilia",
        "hemophilia",
        "severe_mental_illness",
        "congenital_heart_disease",
        "重大疾病",
        "白血病",
        "恶性肿瘤",
        "癌症",
        "尿毒症",
        "肾衰竭",
        "器官移植",
        "再生障碍性贫血",
        "血友病",
        "严重精神障碍",
        "先天性心脏病",
        # as families and caseworkers say it
        "大病",
        "重病",
        "重特大疾病",
        # the serious and catastrophic illnesses of medical assistance (重特大疾病), common names
        "终末期肾病",
        "肾功能衰竭",
        "淋巴瘤",
        "骨髓瘤",
        "脑瘤",
        "重性精神病",
        "精神分裂症",
        "耐多药肺结核",
        "艾滋病",
        "急性心肌梗死",
        "急性心肌梗塞",
        "脑梗死",
        "脑出血",
        "唇腭裂",
        "苯丙酮尿症",
        "系统性红斑狼疮",
        "肝硬化",
        "1型糖尿病",
    }
)
# A diagnosis naming one of these is serious whatever precedes it (肺癌, 急性淋巴细胞白血病).
SERIOUS_FRAGMENTS = ("癌", "白血病", "恶性", "肉瘤")


def normalise_condition(value: str) -> str:
    """``"Serious illness"`` → ``"serious_illness"``; Chinese terms are kept as written."""
    return "_".join(value.strip().lower().replace("-", " ").split())


def age_on(born: date | None, today: date) -> int | None:
    """Whole years of age on ``today``; None when the birth date is unknown."""
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def member_facts(member: Any, today: date) -> dict[str, bool]:
    """Which counts one member adds to (works on a Member row or any object alike)."""
    age = age_on(member.birth_date, today)
    conditions = {normalise_condition(c) for c in (member.conditions or [])}
    return {
        "school_age": _school_age(age, member),
        "elderly": age is not None and age >= ELDERLY_AGE,
        "disabled": member.disability_grade is not None or DISABILITY_CONDITION in conditions,
        "severe_disabled": member.disability_grade in SEVERE_GRADES,
        "student": _in_education(age, member),
        "serious_illness": any(is_serious(c) for c in conditions),
        "unemployed": member.employment == "unemployed",
        "minor": age is not None and age < ADULT_AGE,
        "unsupported": getattr(member, "supporter_able", None) is False and _tekun_person(age, member),
    }


def _tekun_person(age: int | None, member: Any) -> bool:
    """Old, young, or disabled at the grades extreme-poverty support names."""
    if age is not None and (age >= ELDERLY_AGE or age < ADULT_AGE):
        return True
    grade = member.disability_grade
    return grade in SEVERE_GRADES or (grade == 3 and getattr(member, "disability_kind", None) in GRADE_3_KINDS)


def is_serious(condition: str) -> bool:
    """Whether one recorded condition (normalised) counts as a serious illness."""
    return condition in SERIOUS_CONDITIONS or any(f in condition for f in SERIOUS_FRAGMENTS)


def _in_education(age: int | None, member: Any) -> bool:
    if _school_age(age, member):
        return True
    if member.schooling == "preschool":
        return True
    if age is not None and PRESCHOOL_AGE[0] <= age <= PRESCHOOL_AGE[1]:
        return member.schooling in (None, "preschool")
    return member.schooling == "college" and member.employment == "student"


def _school_age(age: int | None, member: Any) -> bool:
    if age is not None and SCHOOL_AGE[0] <= age <= SCHOOL_AGE[1]:
        return True
    if member.schooling not in IN_SCHOOL:
        return False
    return member.employment == "student" or (age is None and member.employment is None)


def monthly_spending(amount_fen: int, period: str | None) -> int:
    """A spending figure per month: a yearly one is divided by 12 (rounded down)."""
    return amount_fen // 12 if period == "yearly" else amount_fen


def compute(
    members: list[Any],
    monthly_income_fen: int,
    today: date,
    *,
    financial_assets_fen: int = 0,
    medical_monthly_fen: int = 0,
) -> dict[str, Any]:
    """The derived facts for these members, income and household inputs, as a dict of
    column values."""
    facts = [member_facts(m, today) for m in members]
    count = len(members)
    left = max(0, monthly_income_fen - medical_monthly_fen)
    return {
        "member_count": count,
        "income_per_capita_fen": monthly_income_fen // count if count else monthly_income_fen,
        "school_age_children": sum(f["school_age"] for f in facts),
        "elderly_count": sum(f["elderly"] for f in facts),
        "disabled_count": sum(f["disabled"] for f in facts),
        "severe_disabled_count": sum(f["severe_disabled"] for f in facts),
        "students_count": sum(f["student"] for f in facts),
        "serious_illness": any(f["serious_illness"] for f in facts),
        "unemployed_count": sum(f["unemployed"] for f in facts),
        "minors_count": sum(f["minor"] for f in facts),
        "unsupported_count": sum(f["unsupported"] for f in facts),
        "financial_assets_per_capita_fen": financial_assets_fen // count if count else financial_assets_fen,
        "medical_spending_monthly_fen": medical_monthly_fen,
        "income_after_medical_per_capita_fen": left // count if count else left,
    }


def facts_for(household: Household, today: date | None = None) -> dict[str, Any]:
    """The household's fact columns as they should be now, without setting them (to
    tell whether a re-imported household changed)."""
    living = [m for m in household.members if getattr(m, "deceased_on", None) is None]
    return compute(
        living,
        household.monthly_income_fen or 0,
        today or local_today(),
        financial_assets_fen=household.financial_assets_fen or 0,
        medical_monthly_fen=monthly_spending(household.medical_spending_fen or 0, household.medical_spending_period),
    )


def refresh(household: Household, today: date | None = None) -> dict[str, Any]:
    """Recompute and set the household's fact columns; return them."""
    facts = facts_for(household, today)
    for key, value in facts.items():
        setattr(household, key, value)
    return facts


def local_today() -> date:
    """Today in the broker's time zone (ages change at local midnight, not UTC's)."""
    try:
        tz = runtime.settings()["TIMEZONE"]
    except RuntimeError:
        tz = "Asia/Shanghai"
    return datetime.now(ZoneInfo(tz)).date()
