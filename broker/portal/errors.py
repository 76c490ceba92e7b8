"""Error pages for everything outside /api, in the reader's language.

The API's error handlers hand non-API paths to ``broker.api.errors.page_handlers``; this
module fills that table, so that a browser gets a page with a way back, never a JSON
envelope or a stack trace. Domain errors carry English messages for API clients; here
the code and details pick a sentence in the reader's language."""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, make_response, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from broker.platform import texts
from broker.platform.errors import DomainError
from broker.portal import i18n

log = logging.getLogger(__name__)

TITLES = {
    400: _l("The form could not be accepted"),
    401: _l("Please sign in"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Not allowed"),
    409: _l("That cannot be done now"),
    413: _l("The file is too large"),
    422: _l("Some details are not valid"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
    503: _l("The service is unavailable"),
}
EXPLANATIONS = {
    400: _l("The request could not be read. Go back, reload the page and try again."),
    401: _l("Sign in to see this page."),
    403: _l("Your account does not have access to this page."),
    404: _l("There is nothing here, or it is not yours to see. Check the address or go back to your home page."),
    405: _l("This address does not accept that kind of request."),
    409: _l("The record has changed since the page was shown. Reload the page to see where it stands."),
    413: _l("The uploaded file is larger than allowed. Choose a smaller file."),
    422: _l("Some of the details were refused. Go back and check them."),
    429: _l("Too many attempts in a short time. Wait a minute, then try again."),
    500: _l("Our mistake: it has been logged. Try again in a moment."),
    503: _l("The service is briefly unavailable. Try again in a moment."),
}
CSRF_EXPLANATION = _l(
    "The form had expired or was not sent from this site, so nothing was changed. "
    "Go back, reload the page and send it again."
)


def domain_message(error: DomainError) -> str:
    """A sentence for a domain error in the reader's language: specific where the code
    says enough (an illegal transition names the current status, a short fund names the
    balance), else the general sentence for its status. English readers see the domain's
    own message, which is written for people."""
    details: dict[str, Any] = error.details or {}
    if error.code == "invalid_transition" and "current_status" in details:
        return _(
            "This cannot be done now: it is “%(status)s”. Reload the page to see where it stands.",
            status=_status_label(details["current_status"]),
        )
    if error.code == "insufficient_funds":
        if "balance_fen" in details and "needed_fen" in details:
            return _(
                "Not enough money in the fund: %(balance)s available, %(needed)s needed.",
                balance=i18n.format_yuan(details["balance_fen"]),
                needed=i18n.format_yuan(details["needed_fen"]),
            )
        return _("Not enough money in the fund for this amount.")
    if error.code == "duplicate_reference" and "disbursement_id" in details:
        return _(
            "Reference “%(reference)s” is already recorded, on disbursement no. %(id)s (offer no. %(offer)s). "
            "Nothing was recorded again; a voucher is recorded once.",
            reference=details.get("reference", ""),
            id=details["disbursement_id"],
            offer=details.get("offer_id", ""),
        )
    if error.code == "restricted_funds" and isinstance(details.get("text"), dict):
        return texts.render(details["text"]["code"], details["text"].get("params"))
    if error.code == "invalid_credentials":
        return _("Wrong username or password.")
    if str(i18n.select_locale()) == "en" and error.message:
        return error.message
    return str(EXPLANATIONS.get(error.status, EXPLANATIONS[400]))


def _status_label(code: str) -> str:
    for kind in ("offer_status", "request_status", "application_status"):
        if code in i18n.LABELS[kind]:
            return i18n.label(code, kind)
    return code


def render_error(status: int, message: str | None = None, title: str | None = None) -> Response:
    """The error page, with the status code kept on the response."""
    title = title or str(TITLES.get(status, TITLES[400]))
    message = message or str(EXPLANATIONS.get(status, EXPLANATIONS[400]))
    try:
        body = render_template("portal/error.html", status=status, title=title, message=message)
    except Exception:
        log.exception("the error page for %s could not be rendered", status)
        return Response(f"{status} {title}\n\n{message}\n", status=status, mimetype="text/plain")
    return make_response(body, status)


def http_page(error: HTTPException) -> Response:
    status = error.code or 500
    if isinstance(error, CSRFError):
        return render_error(400, str(CSRF_EXPLANATION), title=str(TITLES[400]))
    response = render_error(status)
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    if status == 429:
        response.headers["Retry-After"] = "60"
    return response


def domain_page(error: DomainError) -> Response:
    return render_error(error.status, domain_message(error))


# Installed by the composition root into the API's table of page handlers (the portal
# never imports the API).
PAGE_HANDLERS = {"http": http_page, "domain": domain_page}
