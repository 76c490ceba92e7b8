"""What notifications say: each code's English msgid (with ``%(name)s`` parameters), and
their rendering in a reader's language from the portal's one message catalogue.

A notification is stored as a code and its parameters; it is rendered only when it is
shown (in the reader's language) or sent (in the recipient's stored language). The
msgids are marked with :func:`N_` so that ``make translations`` extracts them."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from babel.support import Translations

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
CATALOGUE = Path(__file__).resolve().parent.parent / "portal" / "translations"


def N_(msgid: str) -> str:  # noqa: N802 - the extraction marker's customary name
    """Mark a msgid for extraction; it is translated when rendered."""
    return msgid


MESSAGES: dict[str, str] = {
    "request_failed": N_(
        "No partner could take request #%(request_id)s. Retry it, refer it by hand to an organisation, "
        "or put it on hold."
    ),
    "request_short": N_(
        "Request #%(request_id)s is still short of %(uncovered_fen)s and no other partner can take the rest. "
        "Complete it as it is, or find more help."
    ),
    "offer_accepted": N_("%(partner)s accepted request #%(request_id)s."),
    "offer_accepted_amount": N_("%(partner)s accepted %(accepted_fen)s of request #%(request_id)s."),
    "offer_rejected": N_("%(partner)s declined request #%(request_id)s; it goes on to other partners."),
    "offer_expired": N_("%(partner)s did not answer request #%(request_id)s in time; it goes on to other partners."),
    "application_overdue": N_(
        "Application #%(application_id)s (%(policy)s) is still waiting at %(department)s, past its deadline "
        "of %(deadline)s. Call the department and record the outcome."
    ),
}

# The subject line of an email, and the title of a robot message.
TITLE = N_("Aid broker: something for you to see")


@cache
def _catalogue(locale: str) -> Translations:
    return Translations.load(str(CATALOGUE), [locale])


def yuan(fen: int) -> str:
    """``¥1,110`` for whole yuan, ``¥1,110.50`` otherwise."""
    whole, part = divmod(abs(int(fen)), 100)
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{whole:,}" + (f".{part:02d}" if part else "")


def _shown(name: str, value: Any, locale: str) -> Any:
    if isinstance(value, dict) and "code" in value:
        return render(value["code"], value.get("params"), locale)
    if name.endswith("_fen") and isinstance(value, int):
        return yuan(value)
    return value


def render(code: str, params: dict | None = None, locale: str | None = None) -> str:
    """The text of ``code`` in ``locale`` (Chinese if none or unknown), its parameters
    filled in; money (``*_fen``) is shown in yuan. An unknown code renders as itself."""
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    msgid = MESSAGES.get(code) or (TITLE if code == "title" else None)
    if msgid is None:
        return code
    text = _catalogue(locale).gettext(msgid)
    return text % _Filled({k: _shown(k, v, locale) for k, v in (params or {}).items()})


class _Filled(dict):
    """Parameters for ``%``: one that is missing (an old row) shows as a dash, not an error."""

    def __missing__(self, key: str) -> str:
        return "—"
