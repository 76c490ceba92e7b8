"""The words for a household's record on the page: its state in the registry, the
members' health conditions and sex, what is wrong with a typed resident ID, and the
events of its history. The domain keeps codes (with parameters); they are said here in
the reader's language."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

HOUSEHOLD_STATES = {
    "active": _l("On the active list"),
    "moved_out": _l("Moved away"),
    "deceased": _l("Deceased"),
    "recovered": _l("Out of hardship"),
}
# What the caseworker chooses on the state form, by the state it leads to.
STATE_ACTIONS = {
    "moved_out": _l("Moved away (迁出)"),
    "deceased": _l("Deceased: a household of one person"),
    "recovered": _l("Out of hardship (已脱困)"),
    "active": _l("Back on the active list"),
}
# The health conditions offered as a list (codes as the household facts read them).
CONDITIONS = {
    "serious_illness": _l("Serious illness"),
    "leukaemia": _l("Leukaemia"),
    "cancer": _l("Cancer"),
    "uraemia": _l("Uraemia"),
    "severe_mental_illness": _l("Severe mental illness"),
    "congenital_heart_disease": _l("Congenital heart disease"),
    "disability": _l("Disability"),
    "chronic_illness": _l("Chronic illness"),
}
SEXES = {"M": _l("Male"), "F": _l("Female")}
# What is wrong with a typed resident ID (codes of ``broker.registry.identity.problem``).
ID_PROBLEMS = {
    "id_length": _l("A resident ID has 18 characters; this one has %(length)s. Check the number on the card."),
    "id_characters": _l("Only digits, with X as the last character, are allowed."),
    "id_birth_date": _l("Characters 7–14 (%(digits)s) are not a real birth date. Check the number on the card."),
    "id_birth_impossible": _l("The birth date in this number (%(born)s) is impossible. Check the number on the card."),
    "id_checksum": _l("The last character does not match the others: a digit was probably misread. Check the card."),
}
# Events of a household's history.
HISTORY = {
    "household.state_changed": _l("State changed"),
    "member.deceased": _l("Member recorded as deceased"),
    "member.restored": _l("Death record corrected"),
}


def id_problem(found: tuple[str, dict[str, Any]] | None) -> str | None:
    """A resident ID's problem, said in the reader's language (None when there is none)."""
    if found is None:
        return None
    code, params = found
    return str(ID_PROBLEMS[code]) % params if params else str(ID_PROBLEMS[code])


def conditions(codes: list[str] | None) -> str:
    """A member's conditions, named in the reader's language (one not on the list as typed)."""
    return "、".join(str(CONDITIONS.get(c, c)) for c in codes or []) or "—"
