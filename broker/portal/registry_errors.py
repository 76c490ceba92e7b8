"""A refused registry form said in the reader's language: the message at the top, each
complaint of the schemas and the domain beside its field, and a resident ID already
registered in another household — named, with a link, only where the caseworker may see
that household, and otherwise only "registered elsewhere"."""

from __future__ import annotations

from typing import Any

from flask import flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from broker.platform import db
from broker.platform.errors import DomainError
from broker.portal import i18n
from broker.portal.errors import domain_message

MEMBER_FIELDS = (
    "name",
    "relation",
    "id_number",
    "birth_date",
    "sex",
    "conditions",
    "disability_kind",
    "schooling",
    "employment",
)
# The registry's refusals by code, for the top of the page.
MESSAGES = {
    "duplicate_person": _l("This person is already registered in another household; one person, one household."),
    "validation_error": _l("Some details were not accepted: see the marked fields."),
    "household_inactive": _l("This household is no longer on the active list; put it back on the list first."),
    "household_not_single": _l(
        "Only a household of one living person is recorded as deceased; record the member who died instead."
    ),
    "household_state_unchanged": _l("The household is already in this state."),
    "reason_required": _l("Say why: the reason goes on the record."),
    "member_already_deceased": _l("This member is already recorded as deceased."),
    "member_not_deceased": _l("This member is not recorded as deceased."),
    "bad_date": _l("The date of death is impossible."),
    "duplicate_survey_ref": _l("This survey reference is already registered on the grid."),
}
# The schemas' and the domain's complaints about a field, as the page says them.
COMPLAINTS = {
    "does not match the ID number": _l("Does not match the birth date in the ID number."),
    "required": _l("Required."),
    "would leave no members": _l("A household keeps at least one member."),
}


def refuse(error: DomainError) -> int:
    """Undo the attempt and say why at the top of the page; returns the status to render
    with. Not found and forbidden are answers, not messages: they go to the error page."""
    db.session.rollback()
    if error.status in (401, 403, 404):
        raise error
    known = MESSAGES.get(error.code)
    flash(str(known) if known is not None else domain_message(error), "error")
    return error.status


def _complaint(message: Any) -> str:
    text = str(message)
    if text in COMPLAINTS:
        return str(COMPLAINTS[text])
    for known, said in COMPLAINTS.items():
        if text.startswith(known):
            return str(said)
    if i18n.select_locale() == "en":
        return _("Refused: %(why)s", why=text)
    return _("This was not accepted; check it.")


def attach(form: Any, error: DomainError, fields: dict[str, str]) -> None:
    """Each complaint in the error's details beside its field (``fields``: the domain's
    name → the form's)."""
    for key, messages in (error.details or {}).items():
        name = fields.get(key)
        field = getattr(form, name, None) if name else None
        if field is None:
            continue
        items = messages if isinstance(messages, list) else [messages]
        field.errors = [*list(field.errors or []), *(_complaint(m) for m in items)]


def member_fields(prefix: str) -> dict[str, str]:
    """The schema's names for one member's fields (``members.0.id_number``) → the form's."""
    return {prefix + name: name for name in MEMBER_FIELDS}


def duplicate(error: DomainError, member_form: Any = None) -> dict[str, Any] | None:
    """For a resident ID registered in another household: the other household's id,
    address and grid when the caseworker may see it, else only that it is elsewhere."""
    if error.code != "duplicate_person":
        return None
    details = error.details or {}
    if member_form is not None:
        member_form.id_number.errors = [
            *list(member_form.id_number.errors or []),
            _("This ID number is already registered in another household."),
        ]
    if details.get("visible") and details.get("household_id"):
        return {"visible": True, "household_id": details["household_id"], "address": details.get("address", "")}
    return {"visible": False}
