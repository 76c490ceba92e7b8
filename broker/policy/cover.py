"""What a policy is expected to cover of a need (``expected_cover`` in its YAML file), so
that routing asks charities only for the rest while the household's application is
undecided ("policy before charity").

    expected_cover:
      category: medical     # optional: the need category; default the policy's category
      share: 0.5            # a share of the need, 0 < share <= 1 ...
      cap: 80000 yuan       # ... at most this (optional; fen, or "N yuan")
    # or a fixed amount:
      amount: 2500 yuan

The reader checks it as the rest of the file is checked: each mistake is reported as
``file:line: reason`` and stops the start."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

import yaml

from models.assessment import CATEGORIES


class _Reader(Protocol):
    """What this module needs of the policy file's reader (broker.policy.policy_file)."""

    problems: list[str]

    def problem(self, node: yaml.Node | None, reason: str, line: int | None = None) -> None: ...
    def mapping(self, node: yaml.Node, keys: dict[str, bool], where: str) -> dict[str, yaml.Node] | None: ...
    def text(self, node: yaml.Node | None, what: str) -> str: ...


KEYS = {"category": False, "amount": False, "share": False, "cap": False}
MAX_FEN = 10**10
YUAN_RE = re.compile(r"^\s*(\d{1,8})(?:\.(\d{1,2}))?\s*yuan\s*$")
SHARE_RE = re.compile(r"^\s*(0(\.\d{1,4})?|1(\.0{1,4})?)\s*$")


@dataclass(frozen=True)
class ExpectedCover:
    """A fixed ``amount_fen``, or a ``share`` of the need capped at ``cap_fen``."""

    category: str
    amount_fen: int | None = None
    share: str | None = None  # kept as written ("0.5"): money is never a float
    cap_fen: int | None = None

    def of(self, need_fen: int) -> int:
        """What the policy is expected to pay of a need of ``need_fen``, in whole fen
        (rounded down, never more than the need)."""
        if self.amount_fen is not None:
            return min(need_fen, self.amount_fen)
        expected = int(Fraction(self.share or "0") * need_fen)
        if self.cap_fen is not None:
            expected = min(expected, self.cap_fen)
        return max(0, min(need_fen, expected))

    def as_dict(self) -> dict[str, Any]:
        return {"category": self.category, "amount_fen": self.amount_fen, "share": self.share, "cap_fen": self.cap_fen}


def _money(reader: _Reader, node: yaml.Node, what: str) -> int | None:
    if isinstance(node, yaml.ScalarNode):
        if node.tag.endswith(":int"):
            value = int(node.value.replace("_", ""))
            if 0 < value <= MAX_FEN:
                return value
        elif match := YUAN_RE.match(node.value):
            value = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
            if value > 0:
                return value
    reader.problem(node, f"{what} must be a positive amount in whole fen (8000000) or yuan ('80000 yuan')")
    return None


def read(reader: _Reader, node: yaml.Node | None, default_category: str | None) -> ExpectedCover | None:
    """The ``expected_cover`` of a policy file, checked; ``None`` when it has none (or,
    with the problem recorded on ``reader``, when it is wrong)."""
    if node is None:
        return None
    fields = reader.mapping(node, KEYS, "expected_cover")
    if fields is None:
        return None
    problems = len(reader.problems)
    category = default_category
    if "category" in fields:
        category = reader.text(fields["category"], "expected_cover.category")
        if category not in CATEGORIES:
            reader.problem(fields["category"], f"expected_cover.category must be one of {', '.join(CATEGORIES)}")
    elif category is None:
        reader.problem(node, "expected_cover needs a category (the policy names none)")
    amount = _money(reader, fields["amount"], "expected_cover.amount") if "amount" in fields else None
    share = None
    if "share" in fields:
        raw = fields["share"]
        text = raw.value if isinstance(raw, yaml.ScalarNode) else ""
        if not SHARE_RE.match(text) or Fraction(text.strip()) <= 0:
            reader.problem(raw, "expected_cover.share must be a number above 0 and at most 1, such as 0.5")
        else:
            share = text.strip()
    cap = _money(reader, fields["cap"], "expected_cover.cap") if "cap" in fields else None
    if ("amount" in fields) == ("share" in fields):
        reader.problem(node, "expected_cover needs either an amount or a share, not both")
    if "cap" in fields and "amount" in fields:
        reader.problem(fields["cap"], "expected_cover.cap goes with a share; an amount is its own cap")
    if len(reader.problems) > problems:
        return None
    return ExpectedCover(category=str(category), amount_fen=amount, share=share, cap_fen=cap)
