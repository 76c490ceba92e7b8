"""The words for a household's record on the page: its state in the registry, the
members' health conditions and sex, what is wrong with a typed resident ID (the
registry's text codes), and the events of its history. The domain keeps codes (with parameters); they are said here in
the reader's language."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from broker.platform import texts

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
# The inputs of the asset test, expense-type poverty and extreme-poverty support.
RESIDENCES = {"urban": _l("Urban"), "rural": _l("Rural")}
SPENDING_PERIODS = {"monthly": _l("Per month"), "yearly": _l("Per year")}
DISABILITY_KINDS = {
    "visual": _l("Visual"),
    "hearing": _l("Hearing"),
    "speech": _l("Speech"),
    "physical": _l("Physical"),
    "intellectual": _l("Intellectual"),
    "mental": _l("Mental"),
    "multiple": _l("Multiple"),
}
SUPPORTER = {
    "yes": _l("Has a legal supporter able to support them"),
    "no": _l("No legal supporter, or none able to support them"),
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
    return texts.render(code, params)


def conditions(codes: list[str] | None) -> str:
    """A member's conditions, named in the reader's language (one not on the list as typed)."""
    return "、".join(str(CONDITIONS.get(c, c)) for c in codes or []) or "—"


# Follow-up visits (回访): whether the need is met, and where the visit stands.
NEED_MET = {"yes": _l("Need met"), "partly": _l("Partly met"), "no": _l("Not met")}
FOLLOW_UP_STATUSES = {"scheduled": _l("Scheduled"), "due": _l("Due"), "recorded": _l("Recorded")}
