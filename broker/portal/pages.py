"""What every portal view does the same way: the unit of work, and turning a refused
action into a message on the page it came from."""

from __future__ import annotations

from flask import flash
from flask_babel import gettext as _

from broker.platform import db, field_texts, texts
from broker.platform.errors import DomainError
from broker.portal.errors import domain_message


def commit(message: str) -> None:
    """Commit the view's one domain call, then say what happened."""
    db.commit()
    flash(message, "success")


def refused(error: DomainError) -> int:
    """Undo the attempt and put the reason on the page; returns the status to render with.
    Not found and forbidden are not messages but answers: they go to the error page."""
    db.session.rollback()
    if error.status in (401, 403, 404):
        raise error
    flash(domain_message(error), "error")
    return error.status


def attach_field_errors(form: object, error: DomainError, fields: dict[str, str]) -> None:
    """Show the domain's per-field complaints next to the fields they concern
    (``fields`` maps the domain's names to the form's)."""
    for key, messages in (error.details or {}).items():
        name = fields.get(key)
        field = getattr(form, name, None) if name else None
        if field is None:
            continue
        items = messages if isinstance(messages, list) else [messages]
        field.errors = [*list(field.errors or []), *(_("Refused: %(why)s", why=field_message(key, m)) for m in items)]


def field_message(key: str, message: object) -> str:
    """The domain's complaint about one field in the reader's language, money in yuan
    (the domain checks fen; the form asks for yuan)."""
    found = field_texts.coded(key.rsplit(".", 1)[-1], message)
    return texts.render(found["code"], found["params"]) if found["code"] else str(found["text"])


def page_arg(value: object) -> int:
    try:
        page = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 1
    return max(1, min(page, 10_000))
