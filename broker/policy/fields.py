"""The household facts a policy rule may use, and the settings parameters it may name.

Every field is a column of ``households`` kept up to date from the members by the
registry, so that one rule runs both as a Python check on one household and as a plain
SQL filter over the whole registry. Money is integer fen, as everywhere."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement

from models import Household

INT = "int"
BOOL = "bool"
STR = "str"


@dataclass(frozen=True)
class Field:
    """A household fact: its rule name, type, unit and meaning."""

    name: str
    type: str
    description: str
    money: bool = False

    def column(self) -> ColumnElement:
        return getattr(Household, self.name)


FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("member_count", INT, "people in the household"),
        Field("monthly_income_fen", INT, "the household's total monthly income, in fen", money=True),
        Field("income_per_capita_fen", INT, "monthly income per member, in fen", money=True),
        Field("school_age_children", INT, "members of compulsory or high-school age, or in school"),
        Field("elderly_count", INT, "members aged 60 or over"),
        Field("disabled_count", INT, "members with a registered disability grade"),
        Field("severe_disabled_count", INT, "members with a disability of grade 1 or 2 (severe)"),
        Field("students_count", INT, "members in education, from preschool to university"),
        Field("unemployed_count", INT, "working-age members out of work"),
        Field("serious_illness", BOOL, "a member has a serious (catastrophic) illness"),
        Field("sudden_hardship", BOOL, "the caseworker recorded a sudden hardship (accident, fire, illness)"),
        Field("consent_to_share", BOOL, "the family agreed to share its data with partners"),
    )
}


@dataclass(frozen=True)
class Parameter:
    """A named value from the settings, fixed when a rule is compiled."""

    name: str
    type: str
    description: str
    resolve: Callable[[Mapping[str, Any]], Any]
    money: bool = False


PARAMETERS: dict[str, Parameter] = {
    p.name: p
    for p in (
        Parameter(
            "dibao_line",
            INT,
            "the local monthly minimum-living line per person, in fen (LOCAL_DIBAO_LINE_FEN)",
            lambda s: int(s["LOCAL_DIBAO_LINE_FEN"]),
            money=True,
        ),
        Parameter(
            "low_income_line",
            INT,
            "the low-income line: 1.5 × the minimum-living line, in fen",
            lambda s: int(s["LOCAL_DIBAO_LINE_FEN"]) * 3 // 2,
            money=True,
        ),
    )
}

# Functions the language knows: name → (argument types, result type, description).
FUNCTIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "receives": ((STR,), BOOL, 'the household already receives the benefit with this policy code: receives("dibao")'),
}


def parameter_values(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Resolve every parameter from the settings (once, when the catalogue loads)."""
    return {name: p.resolve(settings) for name, p in PARAMETERS.items()}


def reference() -> dict[str, Any]:
    """The documented vocabulary, as served with the policy list."""
    return {
        "fields": [{"name": f.name, "type": f.type, "description": f.description} for f in FIELDS.values()],
        "parameters": [{"name": p.name, "type": p.type, "description": p.description} for p in PARAMETERS.values()],
        "functions": [{"name": n, "description": d} for n, (_a, _r, d) in FUNCTIONS.items()],
    }
