"""Why a field was refused, as text codes: the domain's and marshmallow's per-field
complaints (``details`` of an error, English for API clients) said to a person in their
language — and money, which the domain checks in fen, said in yuan."""

from __future__ import annotations

import re
from typing import Any

from broker.platform.texts import N_, define

define(
    {
        "invalid.at_most": N_("must be at most %(maximum)s"),
        "invalid.at_most_fen": N_("must be at most %(maximum_fen)s"),
        "invalid.between": N_("must be between %(minimum)s and %(maximum)s"),
        "invalid.between_fen": N_("must be between %(minimum_fen)s and %(maximum_fen)s"),
        "invalid.at_least": N_("must be at least %(minimum)s"),
        "invalid.at_least_fen": N_("must be at least %(minimum_fen)s"),
        "invalid.required": N_("this is required"),
        "invalid.positive": N_("must be more than zero"),
        "invalid.not_blank": N_("must not be blank"),
        "invalid.number": N_("must be a whole number"),
        "invalid.too_long": N_("is longer than %(maximum)s characters"),
        "invalid.choice": N_("is not one of the choices"),
        "invalid.date": N_("is not a date"),
    }
)

# English complaints (ours and marshmallow's) → a code; the groups are its parameters.
_PATTERNS: list[tuple[re.Pattern[str], str, tuple[str, ...]]] = [
    (re.compile(r"must be at most (-?\d+)", re.I), "invalid.at_most", ("maximum",)),
    (
        re.compile(r"Must be greater than or equal to (-?\d+) and less than or equal to (-?\d+)", re.I),
        "invalid.between",
        ("minimum", "maximum"),
    ),
    (re.compile(r"must be between (-?\d+) and (-?\d+)", re.I), "invalid.between", ("minimum", "maximum")),
    (re.compile(r"Must be less than or equal to (-?\d+)", re.I), "invalid.at_most", ("maximum",)),
    (re.compile(r"Must be greater than or equal to (-?\d+)", re.I), "invalid.at_least", ("minimum",)),
    (re.compile(r"Missing data for required field|Field may not be null|required", re.I), "invalid.required", ()),
    (re.compile(r"positive", re.I), "invalid.positive", ()),
    (re.compile(r"blank", re.I), "invalid.not_blank", ()),
    (re.compile(r"Not a valid integer|Not a valid number", re.I), "invalid.number", ()),
    (re.compile(r"Longer than maximum length (\d+)", re.I), "invalid.too_long", ("maximum",)),
    (re.compile(r"Must be one of", re.I), "invalid.choice", ()),
    (re.compile(r"Not a valid date", re.I), "invalid.date", ()),
]
_MONEY_CODES = {"invalid.at_most", "invalid.between", "invalid.at_least"}


def coded(field: str, message: Any) -> dict[str, Any]:
    """One complaint about ``field`` as ``{"code", "params"}`` — amounts of a ``…_fen``
    field as money — or, when it is not one we know, ``{"code": None, "text": …}``."""
    if isinstance(message, dict) and message.get("code"):
        return message
    text = str(message)
    for pattern, code, names in _PATTERNS:
        found = pattern.search(text)
        if not found:
            continue
        values = [int(v) for v in found.groups()]
        if code in _MONEY_CODES and field.endswith("_fen"):
            return {"code": f"{code}_fen", "params": {f"{n}_fen": v for n, v in zip(names, values, strict=True)}}
        return {"code": code, "params": dict(zip(names, values, strict=True))}
    return {"code": None, "text": text}
