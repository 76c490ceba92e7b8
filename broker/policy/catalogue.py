"""The policy catalogue: versioned YAML files, one policy version per file, read and
checked at start-up by every process (web, worker, CLI).

A file that cannot be read stops the start with the file, the line and the reason:
a YAML error with its mark, a missing or unknown key, a bad value, or a rule that does
not parse (with its column in the rule). Several versions of one policy may sit side by
side; the highest version is the one households are matched against, and an
application keeps the checklist of the version it was filed under."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_

from broker.platform.errors import NotFound
from broker.policy import county_file
from broker.policy import fields as policy_fields
from broker.policy.counties import Counties
from broker.policy.cover import ExpectedCover
from broker.policy.evaluation import Facts
from broker.policy.policy_file import Document, _FileReader, _rule_line
from broker.policy.rule_sql import ReceivesSql, receives_exists
from broker.policy.rules import Clause, Rule
from broker.policy.syntax import RuleError


class PolicyError(ValueError):
    """The catalogue cannot be loaded; ``problems`` lists each as "file:line: reason"."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("policy catalogue invalid:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Policy:
    """One version of a government scheme, with its rule compiled for the parameters of
    this deployment."""

    code: str
    version: str
    name: str
    name_en: str
    department: str
    description: str
    benefit: dict[str, Any]
    rule_source: str
    rule: Rule  # the rule as written, and not receiving any excluded benefit
    documents: tuple[Document, ...]
    excludes_if_receiving: tuple[str, ...]
    review_days: int
    source_file: str
    rule_line: int
    params: Mapping[str, Any]  # the default figures (an urban household, a county that sets nothing)
    category: str | None = None  # the need category the benefit pays for (medical, living …)
    figures: Counties | None = None  # each county's figures; None: the defaults everywhere
    counties: tuple[str, ...] = ()  # the counties the policy applies to; empty: all
    filed_with: str = "department"  # or "street": the household's street office or town government
    expected_cover: ExpectedCover | None = None  # what it is expected to pay of a need, before charity

    def serves(self, county: str | None) -> bool:
        """Whether the policy applies in this county (a grid's district)."""
        return not self.counties or county in self.counties

    def params_for(self, facts: Facts) -> Mapping[str, Any]:
        """The figures of the household's county and residence."""
        if self.figures is None:
            return self.params
        return self.figures.params_for(facts.county, facts.values.get("residence"))

    def qualifies(self, facts: Facts) -> bool:
        return self.serves(facts.county) and self.rule.evaluate(facts, self.params_for(facts))

    def explain(self, facts: Facts) -> list[Clause]:
        return self.rule.explain(facts, self.params_for(facts))

    def sql(self, receives: ReceivesSql = receives_exists) -> ColumnElement[bool]:
        """The eligibility filter over ``households`` (no check of applications), with
        each household's county figures."""
        params = self.figures.sql_params() if self.figures is not None else self.params
        verdict = self.rule.sql(params, receives)
        if self.counties:
            assert self.figures is not None
            return and_(self.figures.serving(self.counties), verdict)
        return verdict

    def office(self, grid: Any) -> str:
        """Where an application is filed: the policy's department, or for a policy filed
        with the street, the household's street office or town government
        (街道办事处 / 乡镇人民政府)."""
        if self.filed_with != "street" or grid is None or not getattr(grid, "street", ""):
            return self.department
        return street_office(grid.street)

    def covers(self, category: str) -> bool:
        """Whether the policy is expected to pay part of a need of this category."""
        return self.expected_cover is not None and self.expected_cover.category == category

    def document_codes(self) -> list[str]:
        return [d.code for d in self.documents]

    def summary(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "version": self.version,
            "name": self.name,
            "name_en": self.name_en,
            "department": self.department,
            "description": self.description,
            "category": self.category,
            "benefit": dict(self.benefit),
            "rule": self.rule_source,
            "excludes_if_receiving": list(self.excludes_if_receiving),
            "review_days": self.review_days,
            "documents": [d.as_dict() for d in self.documents],
            "counties": list(self.counties),
            "filed_with": self.filed_with,
            "expected_cover": self.expected_cover.as_dict() if self.expected_cover else None,
        }


def street_office(street: str) -> str:
    """中关村街道 → 中关村街道办事处; 温泉镇 → 温泉镇人民政府; a full name stays as written."""
    name = street.strip()
    if name.endswith(("办事处", "人民政府", "政府")):
        return name
    if name.endswith("街道"):
        return f"{name}办事处"
    if name.endswith(("镇", "乡")):
        return f"{name}人民政府"
    return name


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


class Catalogue:
    """Every loaded policy version; the current one per code is the highest version."""

    def __init__(self, policies: list[Policy], params: Mapping[str, Any], figures: Counties | None = None) -> None:
        self.params = dict(params)
        self.figures = figures
        self.versions = {(p.code, p.version): p for p in policies}
        current: dict[str, Policy] = {}
        for p in policies:
            if p.code not in current or version_key(p.version) > version_key(current[p.code].version):
                current[p.code] = p
        self.current = dict(sorted(current.items()))

    def all(self) -> list[Policy]:
        return list(self.current.values())

    def codes(self) -> list[str]:
        return list(self.current)

    def get(self, code: str, version: str | None = None) -> Policy:
        """The current version of ``code`` (or the given version, falling back to the
        current one if that file is gone); :class:`NotFound` names the known codes."""
        if version is not None and (code, version) in self.versions:
            return self.versions[(code, version)]
        if code not in self.current:
            raise NotFound(
                f"No policy with code {code!r}. Known policies: {', '.join(self.current) or 'none'}.",
                code="unknown_policy",
                details={"policy": [f"unknown; known: {', '.join(self.current)}"]},
            )
        return self.current[code]


def load(directory: str | Path, params: Mapping[str, Any], figures: Counties | None = None) -> Catalogue:
    """Read and check every ``*.yaml`` in ``directory``; raise :class:`PolicyError`
    listing every problem found, or return the catalogue. ``figures`` are the counties'
    figures (:mod:`broker.policy.county_file`); a policy may name only those counties."""
    folder = Path(directory)
    if not folder.is_dir():
        raise PolicyError([f"{folder}: the policy folder (POLICY_DIR) does not exist"])
    problems: list[str] = []
    read: list[tuple[_FileReader, dict[str, Any]]] = []
    for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
        reader = _FileReader(path, params)
        data = reader.read()
        problems += reader.problems
        if data is not None and not reader.problems:
            read.append((reader, data))
    seen: dict[tuple[str, str], str] = {}
    for reader, data in read:
        key = (data["code"], data["version"])
        if key in seen:
            problems.append(f"{reader.name}:1: policy {key[0]} version {key[1]} is also defined in {seen[key]}")
        seen[key] = reader.name
    codes = {data["code"] for _r, data in read}
    policies: list[Policy] = []
    for reader, data in read:
        rule: Rule = data["rule"]
        node = data["rule_node"]
        for code, offset in rule.policy_codes():
            if code not in codes:
                err = RuleError(
                    f'receives("{code}") names no known policy; known: {", ".join(sorted(codes))}', rule.source, offset
                )
                problems.append(f"{reader.name}:{_rule_line(node, err)}: rule, {err.where()}: {err.message}")
        for code, item in data["excludes"]:
            if code not in codes:
                reader.problem(
                    item, f"excludes_if_receiving names no known policy {code!r}; known: {', '.join(sorted(codes))}"
                )
            elif code == data["code"]:
                reader.problem(item, "a policy cannot exclude itself (already receiving it is always checked)")
        known_counties = set(figures.names()) if figures is not None else set()
        for county, item in data["counties"]:
            if county not in known_counties:
                reader.problem(
                    item,
                    f"counties names {county!r}, which the county file does not list; "
                    f"known: {', '.join(sorted(known_counties)) or 'none'}",
                )
        problems += reader.problems
        excludes = [code for code, _item in data["excludes"]]
        policies.append(
            Policy(
                code=data["code"],
                version=data["version"],
                name=data["name"],
                name_en=data["name_en"],
                department=data["department"],
                description=data["description"],
                category=data["category"],
                benefit=data["benefit"],
                rule_source=" ".join(rule.source.split()),
                rule=rule.conjoin_not_receiving(excludes) if not reader.problems else rule,
                documents=tuple(data["documents"]),
                excludes_if_receiving=tuple(excludes),
                review_days=data["review_days"],
                source_file=reader.name,
                rule_line=node.start_mark.line + 1,
                params=params,
                figures=figures,
                counties=tuple(county for county, _item in data["counties"]),
                filed_with=data["filed_with"],
                expected_cover=data["expected_cover"],
            )
        )
    if problems:
        raise PolicyError(problems)
    if not policies:
        raise PolicyError([f"{folder}: no policy files (*.yaml) found"])
    return Catalogue(policies, params, figures)


_state: dict[str, Catalogue | None] = {"catalogue": None}


def init(settings: Mapping[str, Any]) -> Catalogue:
    """Load the catalogue for this process from ``POLICY_DIR`` (at start-up); a bad file
    raises :class:`PolicyError` and the process does not start."""
    try:
        figures = county_file.load(settings.get("COUNTY_FILE"), settings)
    except county_file.CountyError as exc:
        raise PolicyError(exc.problems) from None
    catalogue = load(settings["POLICY_DIR"], policy_fields.parameter_values(settings), figures)
    _state["catalogue"] = catalogue
    return catalogue


def current() -> Catalogue:
    """The catalogue loaded at start-up."""
    catalogue = _state["catalogue"]
    if catalogue is None:
        raise RuntimeError("policy catalogue not loaded: initialise the runtime first")
    return catalogue
