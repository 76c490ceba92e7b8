"""Resident identity numbers (GB 11643-1999): 17 digits, a check character, and the
holder's birth date inside."""

from __future__ import annotations

from datetime import date
from operator import mul

from broker.platform import texts
from broker.platform.errors import Invalid
from broker.platform.texts import N_

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_char(first17: str) -> str:
    if len(first17) != len(_WEIGHTS):
        raise ValueError("the check character is computed over 17 digits")
    return _CHECK[sum(map(mul, map(int, first17), _WEIGHTS)) % 11]


# What is wrong with a typed resident ID, for people (codes of :func:`problem`).
TEXTS = {
    "registry.id_length": N_("A resident ID has 18 characters; this one has %(length)s. Check the number on the card."),
    "registry.id_characters": N_("Only digits, with X as the last character, are allowed."),
    "registry.id_birth_date": N_(
        "Characters 7–14 (%(digits)s) are not a real birth date. Check the number on the card."
    ),
    "registry.id_birth_impossible": N_(
        "The birth date in this number (%(born)s) is impossible. Check the number on the card."
    ),
    "registry.id_checksum": N_(
        "The last character does not match the others: a digit was probably misread. Check the card."
    ),
}
texts.define(TEXTS)


def problem(id_number: str) -> tuple[str, dict] | None:
    """What is wrong with an ID number, as a code and its parameters (``registry.id_length``
    {length}, ``id_characters``, ``id_birth_date`` {digits}, ``id_birth_impossible``
    {born}, ``id_checksum``; said by :data:`TEXTS`), or None when it is valid: the one
    check behind :func:`parse`, for pages that say it in the reader's language."""
    value = (id_number or "").strip().upper()
    if len(value) != 18:
        return "registry.id_length", {"length": len(value)}
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        return "registry.id_characters", {}
    try:
        born = born_on(value)
    except ValueError:
        return "registry.id_birth_date", {"digits": value[6:14]}
    if born > date.today() or born.year < 1900:
        return "registry.id_birth_impossible", {"born": born.isoformat()}
    if check_char(value[:17]) != value[17]:
        return "registry.id_checksum", {}
    return None


_MESSAGES = {
    "registry.id_length": ("a resident ID has 18 characters, this one has {length}.", "must be 18 characters"),
    "registry.id_characters": (
        "only digits, and X as the last character, are allowed.",
        "only digits, and X as the last character",
    ),
    "registry.id_birth_date": (
        "characters 7–14 are not a real birth date ({digits}).",
        "embedded birth date is not a real date",
    ),
    "registry.id_birth_impossible": (
        "the embedded birth date {born} is impossible.",
        "embedded birth date is impossible",
    ),
    "registry.id_checksum": (
        "the check character is wrong; please re-read the number from the card.",
        "check character does not match",
    ),
}


def parse(id_number: str, *, field: str = "id_number") -> tuple[str, date]:
    """Normalise and validate an ID number; return it with its birth date.
    Raises :class:`Invalid` with a message a caseworker can act on."""
    found = problem(id_number)
    if found is not None:
        code, params = found
        message, short = _MESSAGES[code]
        raise Invalid(f"{field}: " + message.format(**params), details={field: [short]})
    value = (id_number or "").strip().upper()
    return value, born_on(value)


def born_on(id_number: str) -> date:
    """The birth date inside a number :func:`parse` has already accepted."""
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def masked(id_number: str) -> str:
    """What a caseworker sees in lists: 110105********123X."""
    return id_number[:6] + "*" * 8 + id_number[14:]


def make(region: str, born: date, seq: str) -> str:
    """Build a valid ID number (demo data and tests)."""
    first17 = f"{region}{born:%Y%m%d}{seq}"
    return first17 + check_char(first17)
