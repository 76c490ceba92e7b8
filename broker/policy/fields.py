"""The household facts a policy rule may use, and the settings parameters it may name.

Every field is a column of ``households`` kept up to date from the members by the
registry, so that one rule runs both as a Python check on one household and as a plain
SQL filter over the whole registry. Money is integer fen, as everywhere."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement

from broker.policy import counties
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
        Field("residence", STR, 'urban or rural residence (城镇/农村): "urban" or "rural"'),
        Field("minors_count", INT, "members under 18"),
        Field(
            "unsupported_count",
            INT,
            "members aged 60+, under 18, or disabled at grade 1-2 (grade 3: intellectual or mental) "
            "with no legal supporter able to support them",
        ),
        Field(
            "financial_assets_per_capita_fen",
            INT,
            "financial assets (deposits, securities, insurance cash value) per member, in fen",
            money=True,
        ),
        Field("motor_vehicles", INT, "motor vehicles the household owns (not a disabled member's own vehicle)"),
        Field("surplus_housing", BOOL, "the household owns housing beyond its need (a second home)"),
        Field(
            "medical_spending_monthly_fen",
            INT,
            "rigid medical spending paid out of pocket, per month, in fen",
            money=True,
        ),
        Field(
            "income_after_medical_per_capita_fen",
            INT,
            "monthly income per member after rigid medical spending, in fen",
            money=True,
        ),
    )
}


@dataclass(frozen=True)
class Parameter:
    """A named figure, fixed per county and residence (see :mod:`broker.policy.counties`)."""

    name: str
    type: str
    description: str
    money: bool = False


PARAMETERS: dict[str, Parameter] = {
    p.name: p
    for p in (
        Parameter(
            "dibao_line",
            INT,
            "the county's monthly minimum-living line per person, urban or rural by the household's residence, fen",
            money=True,
        ),
        Parameter(
            "low_income_line",
            INT,
            "the low-income line: the county's multiplier (default 1.5) × its minimum-living line, in fen",
            money=True,
        ),
        Parameter(
            "financial_assets_limit",
            INT,
            "the county's limit of financial assets per person, in fen (default: 24 months of the line)",
            money=True,
        ),
        Parameter("motor_vehicle_limit", INT, "motor vehicles a household may own under the county's asset test"),
        Parameter(
            "medical_deducted",
            BOOL,
            "the county deducts rigid medical spending from income (支出型贫困)",
        ),
    )
}

# Functions the language knows: name → (argument types, result type, description).
FUNCTIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "receives": ((STR,), BOOL, 'the household already receives the benefit with this policy code: receives("dibao")'),
}


def parameter_values(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter's default value (an urban household of a county that sets nothing)."""
    return counties.defaults_from(settings).params("urban")


def reference() -> dict[str, Any]:
    """The documented vocabulary, as served with the policy list."""
    return {
        "fields": [{"name": f.name, "type": f.type, "description": f.description} for f in FIELDS.values()],
        "parameters": [{"name": p.name, "type": p.type, "description": p.description} for p in PARAMETERS.values()],
        "functions": [{"name": n, "description": d} for n, (_a, _r, d) in FUNCTIONS.items()],
    }
