"""The policy catalogue: versioned YAML files, one policy version per file, read and
checked at start-up by every process (web, worker, CLI).

A file that cannot be read stops the start with the file, the line and the reason:
a YAML error with its mark, a missing or unknown key, a bad value, or a rule that does
not parse (with its column in the rule). Several versions of one policy may sit side by
side; the highest version is the one households are matched against, and an
application keeps the checklist of the version it was filed under."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import ColumnElement

from broker.errors import NotFound
from broker.policy import fields as policy_fields
from broker.policy.evaluation import Facts
from broker.policy.rule_sql import ReceivesSql, receives_exists
from broker.policy.rules import Clause, Rule, parse
from broker.policy.syntax import RuleError

CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
VERSION_RE = re.compile(r"^\d+(\.\d+){0,3}$")
TOP_KEYS = {
    "code": True,
    "version": True,
    "name": True,
    "name_en": True,
    "department": True,
    "benefit": True,
    "rule": True,
    "documents": True,
    "review_days": True,
    "excludes_if_receiving": False,
    "description": False,
}
BENEFIT_KEYS = {"description": True, "description_en": False, "amount_fen": False, "period": False}
DOCUMENT_KEYS = {"code": True, "label": True, "label_en": True}
PERIODS = ("monthly", "yearly", "once")


class PolicyError(ValueError):
    """The catalogue cannot be loaded; ``problems`` lists each as "file:line: reason"."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("policy catalogue invalid:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Document:
    code: str
    label: str
    label_en: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "label": self.label, "label_en": self.label_en}


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
    params: Mapping[str, Any]

    def qualifies(self, facts: Facts) -> bool:
        return self.rule.evaluate(facts, self.params)

    def explain(self, facts: Facts) -> list[Clause]:
        return self.rule.explain(facts, self.params)

    def sql(self, receives: ReceivesSql = receives_exists) -> ColumnElement[bool]:
        """The eligibility filter over ``households`` (no check of applications)."""
        return self.rule.sql(self.params, receives)

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
            "benefit": dict(self.benefit),
            "rule": self.rule_source,
            "excludes_if_receiving": list(self.excludes_if_receiving),
            "review_days": self.review_days,
            "documents": [d.as_dict() for d in self.documents],
        }


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


class Catalogue:
    """Every loaded policy version; the current one per code is the highest version."""

    def __init__(self, policies: list[Policy], params: Mapping[str, Any]) -> None:
        self.params = dict(params)
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


# --------------------------------------------------------------------------- reading


class _FileReader:
    """Reads one YAML file into a :class:`Policy`, collecting "file:line: reason"."""

    def __init__(self, path: Path, params: Mapping[str, Any]) -> None:
        self.path = path
        self.name = path.name
        self.params = params
        self.problems: list[str] = []

    def problem(self, node: yaml.Node | None, reason: str, line: int | None = None) -> None:
        if line is None:
            line = node.start_mark.line + 1 if node is not None else 1
        self.problems.append(f"{self.name}:{line}: {reason}")

    @staticmethod
    def scalar(node: yaml.Node) -> Any:
        return yaml.SafeLoader("").construct_object(node, deep=True)

    def mapping(self, node: yaml.Node, keys: dict[str, bool], where: str) -> dict[str, yaml.Node] | None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{where} must be a mapping of keys to values")
            return None
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key not in keys:
                self.problem(key_node, f"{where}: unknown key {key!r}; allowed keys: {', '.join(keys)}")
                continue
            if key in out:
                self.problem(key_node, f"{where}: key {key!r} appears twice")
            out[key] = value_node
        end_line = node.end_mark.line + 1 if where != "the file" else node.start_mark.line + 1
        for key, required in keys.items():
            if required and key not in out:
                self.problem(node, f"{where}: missing required key {key!r}", line=end_line)
        return out

    def text(
        self, node: yaml.Node | None, what: str, *, required: bool = True, pattern: re.Pattern | None = None
    ) -> str:
        if node is None:
            return ""
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, f"{what} must be text")
            return ""
        value = node.value.strip()  # the raw text: 2025.10 stays "2025.10", not a float
        if required and not value:
            self.problem(node, f"{what} must not be empty")
        elif pattern is not None and not pattern.match(value):
            self.problem(node, f"{what} {value!r} must match {pattern.pattern}")
        return value

    def integer(self, node: yaml.Node | None, what: str, low: int, high: int, *, nullable: bool = False) -> int | None:
        if node is None:
            return None
        value = self.scalar(node) if isinstance(node, yaml.ScalarNode) else node
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(node, f"{what} must be a whole number from {low} to {high}")
            return None
        return value

    def read(self) -> dict[str, Any] | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.problem(None, f"cannot read the file: {exc}")
            return None
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 1
            column = f" column {mark.column + 1}" if mark else ""
            self.problem(None, f"not valid YAML at{column}: {exc.problem or exc.context}", line=line)
            return None
        except yaml.YAMLError as exc:
            self.problem(None, f"not valid YAML: {exc}")
            return None
        if root is None:
            self.problem(None, "the file is empty")
            return None
        top = self.mapping(root, TOP_KEYS, "the file")
        if top is None:
            return None
        data: dict[str, Any] = {
            "code": self.text(top.get("code"), "code", pattern=CODE_RE),
            "version": self.text(top.get("version"), "version", pattern=VERSION_RE),
            "name": self.text(top.get("name"), "name"),
            "name_en": self.text(top.get("name_en"), "name_en"),
            "department": self.text(top.get("department"), "department"),
            "description": self.text(top.get("description"), "description", required=False),
            "review_days": self.integer(top.get("review_days"), "review_days", 1, 365),
            "benefit": self.benefit(top.get("benefit")),
            "documents": self.documents(top.get("documents")),
            "excludes": self.excludes(top.get("excludes_if_receiving")),
            "rule_node": top.get("rule"),
        }
        data["rule"] = self.rule(top.get("rule"))
        return data

    def benefit(self, node: yaml.Node | None) -> dict[str, Any]:
        if node is None:
            return {}
        fields = self.mapping(node, BENEFIT_KEYS, "benefit")
        if fields is None:
            return {}
        out: dict[str, Any] = {
            "description": self.text(fields.get("description"), "benefit.description"),
            "description_en": self.text(fields.get("description_en"), "benefit.description_en", required=False),
            "amount_fen": self.integer(fields.get("amount_fen"), "benefit.amount_fen", 0, 10**10, nullable=True),
        }
        if "period" in fields:
            period = self.text(fields["period"], "benefit.period")
            if period not in PERIODS:
                self.problem(fields["period"], f"benefit.period must be one of {', '.join(PERIODS)}")
            out["period"] = period
        return out

    def documents(self, node: yaml.Node | None) -> list[Document]:
        if node is None:
            return []
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            self.problem(node, "documents must be a non-empty list of {code, label, label_en}")
            return []
        docs: list[Document] = []
        seen: set[str] = set()
        for i, item in enumerate(node.value, start=1):
            fields = self.mapping(item, DOCUMENT_KEYS, f"documents item {i}")
            if fields is None:
                continue
            code = self.text(fields.get("code"), f"documents item {i} code", pattern=CODE_RE)
            if code in seen:
                self.problem(fields["code"], f"document code {code!r} appears twice")
            seen.add(code)
            docs.append(
                Document(
                    code,
                    self.text(fields.get("label"), f"documents item {i} label"),
                    self.text(fields.get("label_en"), f"documents item {i} label_en"),
                )
            )
        return docs

    def excludes(self, node: yaml.Node | None) -> list[tuple[str, yaml.Node]]:
        if node is None:
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, "excludes_if_receiving must be a list of policy codes")
            return []
        return [(self.text(item, "excludes_if_receiving item", pattern=CODE_RE), item) for item in node.value]

    def rule(self, node: yaml.Node | None) -> Rule | None:
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, "rule must be text, such as: income_per_capita_fen < dibao_line (quote it if needed)")
            return None
        source = node.value
        try:
            return parse(source)
        except RuleError as exc:
            self.problem(
                node, f"rule, {exc.where()}: {exc.message}\n    {_indent(exc.pointer())}", line=_rule_line(node, exc)
            )
            return None


def _indent(text: str) -> str:
    return text.replace("\n", "\n    ")


def _rule_line(node: yaml.ScalarNode, exc: RuleError) -> int:
    """The YAML line of a rule error: a literal block (``|``) keeps the rule's lines;
    other styles report the rule's first line."""
    first = node.start_mark.line + 1
    if node.style == "|":
        return first + exc.line
    if node.style == ">":
        return first + 1
    return first


def load(directory: str | Path, params: Mapping[str, Any]) -> Catalogue:
    """Read and check every ``*.yaml`` in ``directory``; raise :class:`PolicyError`
    listing every problem found, or return the catalogue."""
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
                benefit=data["benefit"],
                rule_source=" ".join(rule.source.split()),
                rule=rule.conjoin_not_receiving(excludes) if not reader.problems else rule,
                documents=tuple(data["documents"]),
                excludes_if_receiving=tuple(excludes),
                review_days=data["review_days"],
                source_file=reader.name,
                rule_line=node.start_mark.line + 1,
                params=params,
            )
        )
    if problems:
        raise PolicyError(problems)
    if not policies:
        raise PolicyError([f"{folder}: no policy files (*.yaml) found"])
    return Catalogue(policies, params)


_state: dict[str, Catalogue | None] = {"catalogue": None}


def init(settings: Mapping[str, Any]) -> Catalogue:
    """Load the catalogue for this process from ``POLICY_DIR`` (at start-up); a bad file
    raises :class:`PolicyError` and the process does not start."""
    catalogue = load(settings["POLICY_DIR"], policy_fields.parameter_values(settings))
    _state["catalogue"] = catalogue
    return catalogue


def current() -> Catalogue:
    """The catalogue loaded at start-up."""
    catalogue = _state["catalogue"]
    if catalogue is None:
        raise RuntimeError("policy catalogue not loaded: initialise the runtime first")
    return catalogue
