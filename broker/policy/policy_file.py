"""One policy file: the keys a policy's YAML may hold, and the reader that checks a file
and reports every problem as "file:line: reason" (a YAML error with its mark, a missing
or unknown key, a bad value, a rule that does not parse, with its column in the rule).
The catalogue (:mod:`broker.policy.catalogue`) reads every file with it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from broker.policy import cover
from broker.policy.rules import Rule, parse
from broker.policy.syntax import RuleError
from models.assessment import CATEGORIES

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
    "category": False,
    "counties": False,
    "filed_with": False,
    "expected_cover": False,
}
FILED_WITH = ("department", "street")
BENEFIT_KEYS = {"description": True, "description_en": False, "amount_fen": False, "period": False}
DOCUMENT_KEYS = {"code": True, "label": True, "label_en": True}
PERIODS = ("monthly", "yearly", "once")


@dataclass(frozen=True)
class Document:
    code: str
    label: str
    label_en: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "label": self.label, "label_en": self.label_en}


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
            "category": self.category(top.get("category")),
            "review_days": self.integer(top.get("review_days"), "review_days", 1, 365),
            "benefit": self.benefit(top.get("benefit")),
            "documents": self.documents(top.get("documents")),
            "excludes": self.excludes(top.get("excludes_if_receiving")),
            "rule_node": top.get("rule"),
            "counties": self.counties(top.get("counties")),
            "filed_with": self.filed_with(top.get("filed_with")),
        }
        data["expected_cover"] = cover.read(self, top.get("expected_cover"), data["category"])
        data["rule"] = self.rule(top.get("rule"))
        return data

    def category(self, node: yaml.Node | None) -> str | None:
        """The need category the benefit pays for (``medical``), so that a charity's payment
        and the government's benefit for the same need can be seen side by side."""
        if node is None:
            return None
        value = self.text(node, "category")
        if value is not None and value not in CATEGORIES:
            self.problem(node, f"category must be one of {', '.join(CATEGORIES)}")
            return None
        return value

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

    def counties(self, node: yaml.Node | None) -> list[tuple[str, yaml.Node]]:
        """The counties (grid districts) the policy applies to; none: everywhere."""
        if node is None:
            return []
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            self.problem(node, "counties must be a non-empty list of county names, such as [海淀区]")
            return []
        return [(self.text(item, "counties item"), item) for item in node.value]

    def filed_with(self, node: yaml.Node | None) -> str:
        """``department`` (the policy's department) or ``street`` (the household's street
        office or town government)."""
        if node is None:
            return "department"
        value = self.text(node, "filed_with")
        if value not in FILED_WITH:
            self.problem(node, f"filed_with must be one of {', '.join(FILED_WITH)}")
            return "department"
        return value

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
