"""One rule for the API and the admin pages: a form's data is loaded by the domain's own
schema, and what the schema or the domain refuses is put next to the field it concerns,
as a sentence in the reader's language (:mod:`broker.portal.admin_messages`)."""

from __future__ import annotations

from typing import Any

from flask import flash
from marshmallow import Schema, ValidationError
from wtforms import SelectMultipleField

from broker.platform import db
from broker.platform.errors import DomainError, Invalid
from broker.portal.admin_messages import flatten, refusal, say

# The field a conflict is about, by its code.
CONFLICT_FIELDS = {
    "grid_exists": "code",
    "partner_exists": "name",
    "username_taken": "username",
    "region_exists": "code",
    "region_cycle": "parent",
    "region_level": "parent",
}


def _field_for(form: Any, key: str, names: dict[str, str]) -> Any:
    for candidate in (key, key.split(".", 1)[0]):
        if names.get(candidate):
            return getattr(form, names[candidate], None)
    return None


def attach(form: Any, messages: Any, names: dict[str, str]) -> None:
    """Put each message on the form field it concerns (``names`` maps the schema's keys
    to the form's field names); a message with no field goes to the top of the form."""
    for key, items in flatten(messages).items():
        field = _field_for(form, key, names)
        many = isinstance(field, SelectMultipleField)
        sentences = [say(item, field=key.rsplit(".", 1)[-1], many=many) for item in items]
        if field is None or not hasattr(field, "errors"):
            form.form_errors.extend(sentences)
            continue
        field.errors = [*list(field.errors or []), *sentences]


def load(schema: Schema, data: dict[str, Any], form: Any, names: dict[str, str]) -> dict[str, Any] | None:
    """``data`` as ``schema`` loads it, or None with the reasons on the form."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        attach(form, exc.messages, names)
        return None


def refused(form: Any, error: DomainError, names: dict[str, str]) -> int:
    """Undo the attempt and show why on the form; returns the status to render with.
    Not found and forbidden are answers, not messages: they go to the error page."""
    db.session.rollback()
    if error.status in (401, 403, 404):
        raise error
    if isinstance(error, Invalid) and error.details:
        attach(form, error.details, names)
        return error.status
    field = _field_for(form, CONFLICT_FIELDS.get(error.code, ""), names)
    if field is not None:
        field.errors = [*list(field.errors or []), refusal(error)]
    else:
        flash(refusal(error), "error")
    return error.status


def refused_action(error: DomainError) -> None:
    """Undo a button's action and say why at the top of the page it returns to."""
    db.session.rollback()
    if error.status in (401, 403, 404):
        raise error
    flash(refusal(error), "error")
