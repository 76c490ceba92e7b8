"""The admin pages' reasons for refusing input, in the reader's language.

The admin forms are checked by the domain's own schemas and rules (the API's), which
speak English for API clients; this module turns each of their messages into a sentence
for the page — by the message's pattern for marshmallow's validators and the domain's
per-field details, and by the error code for the domain's refusals — with amounts in
yuan for fields kept in fen. A message it does not know reads as a general "not
accepted" in Chinese, never as an English sentence."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from broker.platform import texts
from broker.platform.errors import DomainError
from broker.portal import i18n
from broker.portal.errors import domain_message


def _bound(value: str, fen: bool) -> str:
    """A bound quoted by a range validator: yuan for a field kept in fen."""
    try:
        number = int(float(value))
    except ValueError:
        return value
    return i18n.format_yuan(number) if fen else value


_Say = Callable[[re.Match, bool], str]

# Pattern of the English message → its sentence. Order matters: the first match wins.
PATTERNS: tuple[tuple[re.Pattern, _Say], ...] = (
    (re.compile(r"^(Missing data for required field|Field may not be null|required)\.?$"), lambda m, f: _("Required.")),
    (
        re.compile(r"^Length must be between (\d+) and (\d+)\.$"),
        lambda m, f: _("Between %(min)s and %(max)s characters.", min=m[1], max=m[2]),
    ),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), lambda m, f: _("At least %(min)s characters.", min=m[1])),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), lambda m, f: _("At most %(max)s characters.", max=m[1])),
    (re.compile(r"^Must be one of: "), lambda m, f: _("Choose one of the options given.")),
    (re.compile(r"^String does not match expected pattern\.$"), lambda m, f: _("Not in the form asked for.")),
    (re.compile(r"^Not a valid (integer|number)\.$"), lambda m, f: _("Enter a number.")),
    (
        re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
        lambda m, f: _("Must be from %(min)s to %(max)s.", min=_bound(m[1], f), max=_bound(m[2], f)),
    ),
    (
        re.compile(r"^Must be greater than or equal to (\S+)\.$"),
        lambda m, f: _("Must be at least %(min)s.", min=_bound(m[1], f)),
    ),
    (
        re.compile(r"^Must be less than or equal to (\S+)\.$"),
        lambda m, f: _("Must be at most %(max)s.", max=_bound(m[1], f)),
    ),
    (re.compile(r"^must be a positive whole number of fen$"), lambda m, f: _("Must be more than zero.")),
    (re.compile(r"^Not a valid URL\.$"), lambda m, f: _("Enter a web address beginning with http:// or https://.")),
    (re.compile(r"^Not a valid email address\.$"), lambda m, f: _("Enter an email address, such as name@example.cn.")),
    (re.compile(r"^Not a valid (string|boolean|list|mapping)\.$"), lambda m, f: _("Not in the form asked for.")),
    (re.compile(r"^Unknown field"), lambda m, f: _("This field is not accepted here.")),
    (
        re.compile(r"contains a character that is not valid Unicode text"),
        lambda m, f: _("Contains a character that is not valid text (it cannot be stored). Type it again."),
    ),
    (
        re.compile(r"contains a control character"),
        lambda m, f: _("Contains an invisible control character. Remove it."),
    ),
    (re.compile(r"^too short$"), lambda m, f: _("At least %(min)s characters.", min=8)),
    (re.compile(r"^too long$"), lambda m, f: _("At most %(max)s characters.", max=256)),
    (re.compile(r"^unknown role$"), lambda m, f: _("Choose one of the options given.")),
    (re.compile(r"^unknown locale$"), lambda m, f: _("Choose one of the options given.")),
    (re.compile(r"^unknown grid$"), lambda m, f: _("There is no grid with this code.")),
    (re.compile(r"^unknown grid: (.+)$"), lambda m, f: _("There is no grid with the code %(code)s.", code=m[1])),
    (
        re.compile(r"^unknown grid or region: (.+)$"),
        lambda m, f: _("There is no grid or region with the code %(code)s.", code=m[1]),
    ),
    (re.compile(r"^unknown region$"), lambda m, f: _("There is no region with this code.")),
    (re.compile(r"^unknown: "), lambda m, f: _("Choose one of the options given.")),
    (re.compile(r"^unknown partner kind$"), lambda m, f: _("Choose one of the options given.")),
    (re.compile(r"^unknown adapter"), lambda m, f: _("This adapter is not installed.")),
    (
        re.compile(r"^must start with whsec_"),
        lambda m, f: _("A signing secret begins with whsec_ followed by the key in base64."),
    ),
    (
        re.compile(r"^the part after whsec_ is not valid base64$"),
        lambda m, f: _("The part after whsec_ is not valid base64."),
    ),
    (
        re.compile(r"^must hold 24 to 64 random bytes; this one holds (\d+)$"),
        lambda m, f: _("The key must be 24 to 64 bytes long; this one is %(n)s.", n=m[1]),
    ),
)

# Per-field details whose meaning depends on the field ("required", "not allowed").
FIELD_DETAILS: dict[tuple[str, str], Any] = {
    ("partner", "required"): _l("Choose the partner this clerk works for."),
    ("partner", "not allowed"): _l("Only a partner clerk belongs to a partner: choose “none”."),
    ("grid", "not allowed"): _l("Only caseworkers hold grids: untick them, or choose the caseworker role."),
}


_LIST_LENGTH = re.compile(r"^(Length must be between|Shorter than minimum length) ")


def say(message: Any, *, field: str = "", many: bool = False) -> str:
    """One refusal of ``field``'s value as a sentence for the reader (``many``: a field
    of tick boxes, whose length is a number of choices, not of characters)."""
    text = str(message)
    if many and _LIST_LENGTH.search(text):
        return _("Tick at least one.")
    known = FIELD_DETAILS.get((field, text))
    if known is not None:
        return str(known)
    fen = field.endswith("_fen")
    for pattern, sentence in PATTERNS:
        found = pattern.search(text)
        if found:
            return sentence(found, fen)
    if str(i18n.select_locale()) == "en":
        return text
    return _("Not accepted: check this field.")


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Marshmallow's nested error messages as ``{"field" or "field.sub": [message, …]}``;
    list positions are dropped (a wrong item in a list is the list's error)."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = str(key) if isinstance(key, str) else ""
            path = ".".join(p for p in (prefix, name) if p)
            for sub, items in flatten(value, path).items():
                out.setdefault(sub, []).extend(items)
    elif isinstance(messages, list | tuple):
        for item in messages:
            for sub, items in flatten(item, prefix).items():
                out.setdefault(sub, []).extend(items)
    else:
        out.setdefault(prefix, []).append(str(messages))
    return out


def refusal(error: DomainError) -> str:
    """The sentence for a refusal that concerns the whole form, not one field: the
    domain's text for its code where it defines one, else the portal's for its status."""
    if error.code in texts.codes():
        return texts.render(error.code, error.details)
    return domain_message(error)
