"""Resident identity numbers (GB 11643-1999): 17 digits, a check character, and the
holder's birth date inside."""

from __future__ import annotations

from datetime import date

from broker.platform.errors import Invalid

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_char(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def parse(id_number: str, *, field: str = "id_number") -> tuple[str, date]:
    """Normalise and validate an ID number; return it with its birth date.
    Raises :class:`Invalid` with a message a caseworker can act on."""
    value = (id_number or "").strip().upper()
    if len(value) != 18:
        raise Invalid(
            f"{field}: a resident ID has 18 characters, this one has {len(value)}.",
            details={field: ["must be 18 characters"]},
        )
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise Invalid(
            f"{field}: only digits, and X as the last character, are allowed.",
            details={field: ["only digits, and X as the last character"]},
        )
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise Invalid(
            f"{field}: characters 7–14 are not a real birth date ({value[6:14]}).",
            details={field: ["embedded birth date is not a real date"]},
        ) from None
    if born > date.today() or born.year < 1900:
        raise Invalid(
            f"{field}: the embedded birth date {born.isoformat()} is impossible.",
            details={field: ["embedded birth date is impossible"]},
        )
    if check_char(value[:17]) != value[17]:
        raise Invalid(
            f"{field}: the check character is wrong; please re-read the number from the card.",
            details={field: ["check character does not match"]},
        )
    return value, born


def masked(id_number: str) -> str:
    """What a caseworker sees in lists: 110105********123X."""
    return id_number[:6] + "*" * 8 + id_number[14:]


def make(region: str, born: date, seq: str) -> str:
    """Build a valid ID number (demo data and tests)."""
    first17 = f"{region}{born:%Y%m%d}{seq}"
    return first17 + check_char(first17)
