"""The base of every schema that reads input from outside (API bodies and query strings,
survey rows): a field nobody defined is refused, naming the field meant when one is
close, so that a typo never silently drops a family's answer; and text that no database
can keep faithfully — a lone surrogate, a NUL or another control character — is refused
at validation with the field named, on SQLite as on PostgreSQL.

Also the bounds that every integer input shares, so that a number beyond anything
plausible is a 422 naming the field, never an overflow further in."""

from __future__ import annotations

import difflib
import re
from contextvars import ContextVar
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, pre_load

# Ids are database integers (PostgreSQL ``integer``); nothing real lies above.
MAX_ID = 2**31 - 1
# A household's monthly income: a million yuan is beyond any family on a grid.
MAX_INCOME_FEN = 100_000_000
# C0 control characters except tab, line feed and carriage return (which free text keeps).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
UNKNOWN_FIELD = "Unknown field."
# How deep the current input schema load is (1: the outermost, which checks all text).
_LOADING: ContextVar[int] = ContextVar("input_schema_loading", default=0)


def printable_key(key: Any) -> str:
    """A field name as it can be shown back (a lone surrogate escaped, not sent raw)."""
    return str(key).encode("utf-8", "backslashreplace").decode("utf-8")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as sent, or None if it can."""
    if value.isprintable():  # no control character, no lone surrogate: nearly every text
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"contains a character that is not valid Unicode text (a lone surrogate, "
            f"U+{ord(value[exc.start]):04X}, at position {exc.start}); send the text as valid UTF-8"
        )
    found = _CONTROL.search(value)
    if found:
        return (
            f"contains a control character (U+{ord(found.group()):04X}) at position {found.start()}; "
            "remove it (only tab and line breaks are allowed in text)"
        )
    return None


def _text_errors(value: Any, depth: int = 0) -> Any:
    """The problems of every text inside ``value`` (keys included), shaped like
    marshmallow's errors: a list for a value, a dict by key or index for a container."""
    if isinstance(value, str):
        problem = text_problem(value)
        return [problem] if problem else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    elif hasattr(value, "lists"):  # a werkzeug MultiDict (query string, form)
        items = ((key, item) for key, values in value.lists() for item in values)
    else:
        return None
    if depth > 64:
        return None
    errors: dict[Any, Any] = {}
    for key, item in items:
        if isinstance(key, str) and text_problem(key):
            errors[printable_key(key)] = [f"the field name {text_problem(key)}"]
            continue
        found = _text_errors(item, depth + 1)
        if found:
            errors[key] = found
    return errors or None


def closest(name: str, known: list[str]) -> str | None:
    """The known name ``name`` most likely stands for: a close spelling, or one it begins."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return close[0]
    if len(name) >= 3:
        starts = [k for k in known if k.startswith(name) or name.startswith(k)]
        if len(starts) == 1:
            return starts[0]
    return None


class InputSchema(Schema):
    """Refuses unknown fields (with the field meant, if one is close) and unstorable text."""

    class Meta:
        unknown = RAISE

    def load(self, *args: Any, **kwargs: Any) -> Any:
        """As :meth:`Schema.load`, counting how deep in nested loads it runs."""
        token = _LOADING.set(_LOADING.get() + 1)
        try:
            return super().load(*args, **kwargs)
        finally:
            _LOADING.reset(token)

    @pre_load(pass_collection=True)
    def _storable_text(self, data: Any, **_kw: Any) -> Any:
        if _LOADING.get() > 1:  # a nested load: the outermost has checked its whole input
            return data
        errors = _text_errors(data)
        if errors:
            raise ValidationError(errors)
        return data

    def handle_error(self, error: ValidationError, data: Any, *, many: bool, **kwargs: Any) -> None:
        """Name the field meant beside each unknown one (``consent`` → ``consent_to_share``)."""
        messages = error.messages
        if not isinstance(messages, dict):
            return
        known = [f.data_key or name for name, f in self.load_fields.items()]
        improved = False
        for key, problems in list(messages.items()):
            if not isinstance(problems, list) or UNKNOWN_FIELD not in problems:
                continue
            meant = closest(str(key), known)
            hint = f"Unknown field; did you mean {meant!r}?" if meant else "Unknown field; it is not one this accepts."
            messages[key] = [hint if p == UNKNOWN_FIELD else p for p in problems]
            improved = True
        if improved:
            raise ValidationError(messages, data=data, valid_data=error.valid_data) from error
