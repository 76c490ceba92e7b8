"""Per-county figures (区县救助标准): each county of the installation sets its own urban
and rural minimum-living lines, its low-income multiplier, its asset limits and whether
rigid medical spending is deducted from income (支出型贫困); a county that sets nothing
uses the settings' defaults. A county is the name of the district or county node above
a grid in the region tree (海淀区, 延庆区), see :mod:`broker.registry.region_tree`.

The figures are the values of a rule's parameters (:data:`broker.policy.fields.PARAMETERS`)
for one household, chosen by its county and its residence (urban or rural): in Python
from the household's facts, and in SQL as a ``CASE`` over the grid and the residence
column, so that the policy scan and the policy package agree to the fen. The file is
read by :mod:`broker.policy.county_file`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, ColumnElement, and_, case, literal

from broker.registry import region_tree
from models import Household

RURAL = "rural"


@dataclass(frozen=True)
class Figures:
    """One county's figures (or the defaults). Money is fen per person per month."""

    urban_line: int
    rural_line: int
    low_income_multiplier: Decimal
    motor_vehicles: int
    deduct_medical: bool
    financial_assets_months: int | None = None
    financial_assets_per_capita_fen: int | None = None

    def params(self, residence: str | None) -> dict[str, Any]:
        """The rule parameters for a household of this residence."""
        line = self.rural_line if residence == RURAL else self.urban_line
        low = int((Decimal(line) * self.low_income_multiplier).to_integral_value(ROUND_FLOOR))
        assets = self.financial_assets_per_capita_fen
        if assets is None:
            assets = line * (self.financial_assets_months or 0)
        return {
            "dibao_line": line,
            "low_income_line": low,
            "financial_assets_limit": assets,
            "motor_vehicle_limit": self.motor_vehicles,
            "medical_deducted": self.deduct_medical,
        }

    def as_dict(self) -> dict[str, Any]:
        return {"urban": self.params("urban"), "rural": self.params(RURAL)}


def defaults_from(settings: Mapping[str, Any]) -> Figures:
    """The figures of a county that sets nothing, from the settings."""
    urban = int(settings["LOCAL_DIBAO_LINE_FEN"])
    rural = settings.get("LOCAL_RURAL_DIBAO_LINE_FEN")
    return Figures(
        urban_line=urban,
        rural_line=urban if rural is None else int(rural),
        low_income_multiplier=Decimal(str(settings.get("LOW_INCOME_MULTIPLIER", "1.5"))),
        motor_vehicles=int(settings.get("MOTOR_VEHICLES_ALLOWED", 0)),
        deduct_medical=bool(settings.get("DEDUCT_MEDICAL_SPENDING", False)),
        financial_assets_months=int(settings.get("FINANCIAL_ASSETS_MONTHS", 24)),
    )


def _in_county(name: str) -> ColumnElement[bool]:
    # An uncorrelated IN: the database reads the county's grids once per query.
    return region_tree.in_counties(Household.grid_id, [name])


def _sql_value(value: Any) -> ColumnElement:
    if isinstance(value, bool):
        return literal(value, Boolean())
    return literal(value, BigInteger())


@dataclass(frozen=True)
class Counties:
    """The defaults and each named county's figures."""

    defaults: Figures
    by_name: dict[str, Figures] = field(default_factory=dict)

    def names(self) -> list[str]:
        return list(self.by_name)

    def figures(self, county: str | None) -> Figures:
        return self.by_name.get(county or "", self.defaults)

    def params_for(self, county: str | None, residence: str | None) -> dict[str, Any]:
        """The parameter values for a household of this county and residence."""
        return self.figures(county).params(residence)

    def sql_params(self) -> dict[str, Any]:
        """Each parameter as an SQL expression over ``households`` (a plain value when no
        county differs from the defaults)."""
        rural = Household.residence == RURAL
        out: dict[str, Any] = {}
        for name, default_urban in self.defaults.params("urban").items():
            default_rural = self.defaults.params(RURAL)[name]
            whens: list[tuple[ColumnElement[bool], ColumnElement]] = []
            for county, figures in self.by_name.items():
                urban, rural_value = figures.params("urban")[name], figures.params(RURAL)[name]
                if urban == rural_value == default_urban == default_rural:
                    continue
                if urban == rural_value:
                    whens.append((_in_county(county), _sql_value(urban)))
                else:
                    whens.append((and_(_in_county(county), rural), _sql_value(rural_value)))
                    whens.append((_in_county(county), _sql_value(urban)))
            if default_rural != default_urban:
                whens.append((rural, _sql_value(default_rural)))
            out[name] = case(*whens, else_=_sql_value(default_urban)) if whens else default_urban
        return out

    def serving(self, names: tuple[str, ...]) -> ColumnElement[bool]:
        """Households whose grid is in one of these counties."""
        return region_tree.in_counties(Household.grid_id, names)

    def as_dict(self) -> dict[str, Any]:
        return {
            "defaults": self.defaults.as_dict(),
            "counties": {name: f.as_dict() for name, f in self.by_name.items()},
        }
