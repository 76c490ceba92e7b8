"""The county figures file (``COUNTY_FILE``, ``config/counties.yaml``), read and checked
at start-up: a mistake stops the start with ``file:line: reason``, like a policy file.

```yaml
counties:
  海淀区:
    dibao_line: {urban: 1395 yuan, rural: 1395 yuan}   # fen, or "N yuan"
    low_income_multiplier: 1.5
    financial_assets_months: 24       # or financial_assets_per_capita: 30000 yuan
    motor_vehicles: 0                 # motor vehicles a household may own
    deduct_medical_spending: true     # 支出型贫困: income after rigid medical spending
```
Every key of a county is optional; what it leaves out comes from the settings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from broker.policy.counties import Counties, Figures, defaults_from

COUNTY_KEYS = (
    "dibao_line",
    "low_income_multiplier",
    "financial_assets_months",
    "financial_assets_per_capita",
    "motor_vehicles",
    "deduct_medical_spending",
)
LINE_KEYS = ("urban", "rural")
MAX_FEN = 10**9
YUAN_RE = re.compile(r"^\s*(\d{1,7})(?:\.(\d{1,2}))?\s*yuan\s*$")


class CountyError(ValueError):
    """The county file cannot be loaded; ``problems`` lists each as "file:line: reason"."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("county figures invalid:\n  " + "\n  ".join(problems))


class _Reader:
    def __init__(self, path: Path) -> None:
        self.name = path.name
        self.path = path
        self.problems: list[str] = []

    def problem(self, node: yaml.Node | None, reason: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        self.problems.append(f"{self.name}:{line}: {reason}")

    def mapping(self, node: yaml.Node, where: str) -> list[tuple[yaml.Node, yaml.Node]] | None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{where} must be a mapping of keys to values")
            return None
        seen: set[str] = set()
        for key, _value in node.value:
            if key.value in seen:
                self.problem(key, f"{where}: key {key.value!r} appears twice")
            seen.add(key.value)
        return node.value

    def money(self, node: yaml.Node, what: str) -> int | None:
        if isinstance(node, yaml.ScalarNode):
            if node.tag.endswith(":int"):
                value = int(node.value.replace("_", ""))
                if 0 <= value <= MAX_FEN:
                    return value
            elif match := YUAN_RE.match(node.value):
                return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
        self.problem(node, f"{what} must be whole fen (139500) or yuan ('1395 yuan'), at most {MAX_FEN} fen")
        return None

    def count(self, node: yaml.Node, what: str, high: int) -> int | None:
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":int"):
            value = int(node.value.replace("_", ""))
            if 0 <= value <= high:
                return value
        self.problem(node, f"{what} must be a whole number from 0 to {high}")
        return None

    def county(self, name: str, node: yaml.Node, defaults: Figures) -> Figures | None:
        items = self.mapping(node, f"county {name}")
        if items is None:
            return None
        figures = defaults
        for key_node, value in items:
            key = key_node.value
            if key not in COUNTY_KEYS:
                self.problem(key_node, f"county {name}: unknown key {key!r}; allowed keys: {', '.join(COUNTY_KEYS)}")
            elif key == "dibao_line":
                figures = self._lines(name, value, figures)
            elif key == "low_income_multiplier":
                multiplier = self._multiplier(name, value)
                if multiplier is not None:
                    figures = replace(figures, low_income_multiplier=multiplier)
            elif key == "financial_assets_months":
                months = self.count(value, f"county {name}: financial_assets_months", 240)
                if months is not None:
                    figures = replace(figures, financial_assets_months=months, financial_assets_per_capita_fen=None)
            elif key == "financial_assets_per_capita":
                fen = self.money(value, f"county {name}: financial_assets_per_capita")
                if fen is not None:
                    figures = replace(figures, financial_assets_per_capita_fen=fen)
            elif key == "motor_vehicles":
                vehicles = self.count(value, f"county {name}: motor_vehicles", 10)
                if vehicles is not None:
                    figures = replace(figures, motor_vehicles=vehicles)
            elif key == "deduct_medical_spending":
                if isinstance(value, yaml.ScalarNode) and value.tag.endswith(":bool"):
                    figures = replace(figures, deduct_medical=value.value.lower() in ("true", "yes", "on"))
                else:
                    self.problem(value, f"county {name}: deduct_medical_spending must be true or false")
        keys = [k.value for k, _v in items]
        if "financial_assets_months" in keys and "financial_assets_per_capita" in keys:
            self.problem(node, f"county {name}: give financial_assets_months or financial_assets_per_capita, not both")
        return figures

    def _lines(self, name: str, node: yaml.Node, figures: Figures) -> Figures:
        items = self.mapping(node, f"county {name}: dibao_line")
        if items is None:
            return figures
        lines: dict[str, int] = {}
        for key_node, value in items:
            if key_node.value not in LINE_KEYS:
                self.problem(key_node, f"county {name}: dibao_line takes urban and rural, not {key_node.value!r}")
                continue
            fen = self.money(value, f"county {name}: dibao_line.{key_node.value}")
            if fen is not None and fen <= 0:
                self.problem(value, f"county {name}: dibao_line.{key_node.value} must be above zero")
            elif fen is not None:
                lines[key_node.value] = fen
        urban = lines.get("urban", figures.urban_line)
        return replace(figures, urban_line=urban, rural_line=lines.get("rural", urban))

    def _multiplier(self, name: str, node: yaml.Node) -> Decimal | None:
        try:
            value = Decimal(node.value) if isinstance(node, yaml.ScalarNode) else None
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or not Decimal(1) <= value <= Decimal(5):
            self.problem(node, f"county {name}: low_income_multiplier must be a number from 1 to 5, such as 1.5")
            return None
        return value


def load(path: str | Path | None, settings: Mapping[str, Any]) -> Counties:
    """Read and check the county file; no file (or no path) means every county uses the
    defaults. Raises :class:`CountyError` listing every problem found."""
    defaults = defaults_from(settings)
    if not path or not Path(path).exists():
        return Counties(defaults)
    reader = _Reader(Path(path))
    try:
        root = yaml.compose(Path(path).read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError) as exc:
        raise CountyError([f"{reader.name}:1: cannot read the file: {exc}"]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise CountyError([f"{reader.name}:{mark.line + 1 if mark else 1}: not valid YAML: {exc.problem}"]) from None
    if root is None:
        return Counties(defaults)
    by_name: dict[str, Figures] = {}
    top = reader.mapping(root, "the file") or []
    for key_node, value in top:
        if key_node.value != "counties":
            reader.problem(key_node, f"unknown key {key_node.value!r}; the file holds 'counties'")
            continue
        if isinstance(value, yaml.ScalarNode) and value.tag.endswith(":null"):
            continue
        for name_node, county_node in reader.mapping(value, "counties") or []:
            name = str(name_node.value).strip()
            if not name or len(name) > 80:
                reader.problem(name_node, "a county name is its grids' district, 1 to 80 characters")
                continue
            if isinstance(county_node, yaml.ScalarNode) and county_node.tag.endswith(":null"):
                by_name[name] = defaults
                continue
            figures = reader.county(name, county_node, defaults)
            if figures is not None:
                by_name[name] = figures
    if reader.problems:
        raise CountyError(reader.problems)
    return Counties(defaults, by_name)
