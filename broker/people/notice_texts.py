"""What notifications say: each code's English msgid (with ``%(name)s`` parameters),
registered with the broker's text codes (:mod:`broker.platform.texts`) and rendered in
the reader's language from the one message catalogue.

A notification is stored as a code and its parameters; it is rendered only when it is
shown (in the reader's language) or sent (in the recipient's stored language)."""

from __future__ import annotations

from broker.platform import texts
from broker.platform.texts import N_

DEFAULT_LOCALE = "zh_CN"

MESSAGES: dict[str, str] = {
    "request_failed": N_(
        "No partner could take request #%(request_id)s. Retry it, refer it by hand to an organisation, "
        "or put it on hold."
    ),
    "request_job_matching": N_(
        "No partner took the job-support request #%(request_id)s: choose an opening or a course for the family "
        "on its matches page."
    ),
    "request_short": N_(
        "Request #%(request_id)s is still short of %(uncovered_fen)s and no other partner can take the rest. "
        "Complete it as it is, or find more help."
    ),
    "offer_accepted": N_("%(partner)s accepted request #%(request_id)s."),
    "offer_accepted_amount": N_("%(partner)s accepted %(accepted_fen)s of request #%(request_id)s."),
    "offer_rejected": N_("%(partner)s declined request #%(request_id)s; it goes on to other partners."),
    "offer_expired": N_("%(partner)s did not answer request #%(request_id)s in time; it goes on to other partners."),
    "disbursement_reversed_open": N_(
        "A payment of %(amount_fen)s on request #%(request_id)s was reversed: it was recorded in error and the "
        "family did not receive it. The request looks for the money again."
    ),
    "disbursement_reversed_closed": N_(
        "A payment of %(amount_fen)s on request #%(request_id)s was reversed: it was recorded in error and the "
        "family did not receive it. The request was already complete; assess the need again if the family "
        "still needs help."
    ),
    "application_overdue": N_(
        "Application #%(application_id)s (%(policy)s) is still waiting at %(department)s, past its deadline "
        "of %(deadline)s. Call the department and record the outcome."
    ),
    "follow_up_due": N_(
        "A follow-up visit to household #%(household_id)s is due (%(due)s) for request #%(request_id)s. "
        "Visit the family and record whether the need is met."
    ),
}

# The subject line of an email, and the title of a robot message.
TITLE = N_("Aid broker: something for you to see")


texts.define({**MESSAGES, "notification.title": TITLE})
yuan = texts.yuan


def render(code: str, params: dict | None = None, locale: str | None = None) -> str:
    """The text of ``code`` (``title``: the subject of an email) in ``locale`` (Chinese
    if none): money (``*_fen``) in yuan, a missing parameter as a dash."""
    return texts.render("notification.title" if code == "title" else code, params, locale or DEFAULT_LOCALE)
