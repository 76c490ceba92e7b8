"""Text for people as codes with parameters, rendered in the reader's language.

The domain never stores a sentence: it stores a code (``routing.region_not_served``) and
its parameters (``{"grid": "HD-ZGC-01"}``), and each domain registers, with
:func:`define`, the English msgid that says it. A page, an export, an API answer or an
e-mail renders the code at display time in the reader's language (zh_CN first, en) from
the one gettext catalogue of the project, which the process hands over at start-up with
:func:`configure` — the platform knows no portal, and an RQ worker renders as the web
does.

Parameters are data, never format strings: a value is inserted once and never looked
into again, and the result is plain text for the page to escape. A parameter named
``…_fen`` is money and reads as yuan (``¥1,110``, ``¥1,110.50``); a parameter that is
itself ``{"code": …, "params": …}`` is rendered first; a name given in each language
(``{"zh_CN": "医疗救助", "en": "Medical assistance"}``) reads in the reader's; a list
reads as a list."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from babel import Locale, support
from flask import has_request_context, request

log = logging.getLogger(__name__)

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
DOMAIN = "messages"

_codes: dict[str, str] = {}
_directory: Path | None = None
_catalogues: dict[str, support.NullTranslations] = {}
_override: contextvars.ContextVar[str | None] = contextvars.ContextVar("texts_locale", default=None)
# How a list parameter is joined: 、 between Chinese items, a comma between English ones.
_LIST_SEPARATORS = {"zh_CN": "、", "en": ", "}
_MISSING = "—"
_REQUEST_KEY = "aidbroker.text_locale"


def N_(msgid: str) -> str:  # noqa: N802 - the gettext tools' own name for the marker
    """Marks an English msgid for extraction into the catalogue; returns it unchanged."""
    return msgid


def define(mapping: Mapping[str, str]) -> None:
    """Register codes → English msgids. A code names one sentence: defining it again
    with another sentence is a mistake, found at import time."""
    for code, msgid in mapping.items():
        known = _codes.get(code)
        if known is not None and known != msgid:
            raise ValueError(f"text code {code!r} is already defined as {known!r}")
        _codes[code] = msgid


def codes() -> dict[str, str]:
    """Every registered code and its English msgid."""
    return dict(_codes)


def configure(directory: str | Path) -> None:
    """Where the compiled catalogues live (``<directory>/<locale>/LC_MESSAGES/messages.mo``)."""
    global _directory
    _directory = Path(directory)
    _catalogues.clear()


def catalogue(locale: str) -> support.NullTranslations:
    """The translations of ``locale``, loaded once; no catalogue means the English msgid."""
    found = _catalogues.get(locale)
    if found is None:
        if _directory is None:
            found = support.NullTranslations()
        else:
            found = support.Translations.load(str(_directory), [locale], DOMAIN)
        _catalogues[locale] = found
    return found


def normalise(locale: object) -> str:
    """``zh``, ``zh-CN``, ``zh_Hans_CN`` or a babel ``Locale`` → ``zh_CN``; ``en-GB`` → ``en``;
    anything else → the default."""
    if isinstance(locale, Locale):
        return "zh_CN" if locale.language == "zh" else ("en" if locale.language == "en" else DEFAULT_LOCALE)
    text = str(locale or "").replace("-", "_").lower()
    if text.startswith("zh"):
        return "zh_CN"
    if text.startswith("en"):
        return "en"
    return DEFAULT_LOCALE


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Render in ``locale`` inside the block (a job writing to one reader, a test)."""
    token = _override.set(normalise(locale))
    try:
        yield
    finally:
        _override.reset(token)


def set_request_locale(locale: str) -> None:
    """The locale of this request (the API's caller's). Kept on the request itself, not on
    ``g``: an app context, and ``g`` with it, may outlive one request."""
    request.environ[_REQUEST_KEY] = normalise(locale)


def current_locale() -> str:
    """The locale to render in: one chosen with :func:`use_locale`, else the request's
    (:func:`set_request_locale`, as the API does, else the portal's flask-babel choice),
    else zh_CN."""
    chosen = _override.get()
    if chosen:
        return chosen
    if has_request_context():
        stored = request.environ.get(_REQUEST_KEY)
        if stored:
            return stored
        try:
            from flask_babel import get_locale

            babel_locale = get_locale()
        except (KeyError, RuntimeError, AttributeError):  # no Babel on this app
            babel_locale = None
        if babel_locale is not None:
            return normalise(babel_locale)
    return DEFAULT_LOCALE


def yuan(fen: object) -> str:
    """Money in a sentence: ``111000`` → ``¥1,110``, ``111050`` → ``¥1,110.50`` (no floats)."""
    try:
        value = int(fen)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return _MISSING
    sign = "-" if value < 0 else ""
    whole, cents = divmod(abs(value), 100)
    return f"{sign}¥{whole:,}" + (f".{cents:02d}" if cents else "")


class _Params(dict):
    """The parameters as the sentence reads them; a name the sentence asks for but the
    stored parameters lack reads as a dash (and is logged) rather than failing the page."""

    def __missing__(self, key: str) -> str:
        log.warning("text parameter %r missing", key)
        return _MISSING


def _value(key: str, value: Any, locale: str) -> str:
    if isinstance(value, Mapping) and "code" in value:
        return render(str(value["code"]), value.get("params"), locale)
    if isinstance(value, Mapping) and "zh_CN" in value:  # a name given in each language (a policy's)
        return str(value.get(locale) or value["zh_CN"])
    if isinstance(value, list | tuple):
        return _LIST_SEPARATORS.get(locale, ", ").join(_value("", item, locale) for item in value)
    if key.endswith("_fen"):
        return yuan(value)
    if value is None:
        return _MISSING
    return str(value)


def _shown(params: Mapping[str, Any] | None, locale: str) -> _Params:
    """``gap_fen`` is offered both as ``%(gap_fen)s`` and ``%(gap)s``, in yuan."""
    shown = _Params()
    for key, value in (params or {}).items():
        key = str(key)
        text = _value(key, value, locale)
        shown[key] = text
        if key.endswith("_fen"):
            shown.setdefault(key[: -len("_fen")], text)
    return shown


def render(code: str, params: Mapping[str, Any] | None = None, locale: str | None = None) -> str:
    """The sentence for ``code`` in ``locale`` (default: :func:`current_locale`). An
    unknown code shows as itself, and is logged, so that a page never fails on one."""
    locale = normalise(locale) if locale else current_locale()
    msgid = _codes.get(code)
    if msgid is None:
        log.warning("text code %r is not defined", code)
        return str(code)
    template = catalogue(locale).gettext(msgid) if locale != "en" else catalogue("en").gettext(msgid)
    try:
        return template % _shown(params, locale)
    except (TypeError, ValueError) as exc:
        log.warning("text code %r does not format: %s", code, exc)
        return template


def rendered(obj: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``{"code", "params"}`` → ``{"code", "params", "message"}`` for an API answer, the
    message in the caller's language; ``None`` stays ``None``."""
    if obj is None:
        return None
    code = str(obj.get("code") or "")
    params = dict(obj.get("params") or {})
    return {"code": code, "params": params, "message": render(code, params)}
