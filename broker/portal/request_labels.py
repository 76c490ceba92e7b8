"""The words for a request's lifecycle on the page: its routing state and why it was
withdrawn (labels of the domain's codes), and the domain's text codes — why routing
found no partner, why it left one out, status notes — said in the reader's language."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from broker.platform import texts
from broker.referral import wording

ROUTING_STATES = {
    "routing": _l("Finding a partner"),
    "offered": _l("Offered to partners"),
    "partly-covered": _l("Partly covered"),
    "covered": _l("Covered"),
    "unmatched": _l("No partner could take it"),
}
# Policy before charity: where a part held for a government policy stands.
POLICY_HOLD_STATUSES = {
    "held": _l("Held for the policy"),
    "covered": _l("Covered by the policy"),
    "released": _l("Released to partners"),
    "overridden": _l("Routed in full by the caseworker"),
}
REVOKE_REASONS = {
    "need_met_elsewhere": _l("The need was met elsewhere"),
    "family_declined": _l("The family declined the help"),
    "family_moved": _l("The family moved away"),
    "no_longer_eligible": _l("No longer eligible"),
    "duplicate": _l("Recorded twice"),
    "other": _l("Other reason"),
}
REFERRAL_OUTCOMES = {
    "accepted": _l("Took it on"),
    "declined": _l("Declined"),
    "completed": _l("Gave the help"),
}


def say(value: Any) -> str:
    """What the domain stored for people, in the reader's language: a text code with its
    parameters rendered, a person's own words (or an entry from before codes) as written."""
    if value is None:
        return ""
    if isinstance(value, dict):
        if value.get("code"):
            return texts.render(str(value["code"]), value.get("params"))
        return str(value.get("text") or "")
    return str(value)


def exclusion(entry: dict[str, Any]) -> str:
    """One partner left out, as the reader reads it."""
    return wording.exclusion(entry)


def unmatched(reasons: dict[str, Any] | None) -> str:
    """Why routing found nobody for the request."""
    return wording.unmatched(reasons)


def status_note(value: str | None) -> str:
    """A request's or offer's status note: the broker's code said, a person's words as written."""
    return wording.status_said(value)


def assessment_outcome(outcome: dict[str, Any], category_label: str) -> str:
    """What happened to one need of a saved assessment, for the flash."""
    state = outcome.get("routing_state")
    if outcome.get("status") == "completed":
        return _("%(need)s: granted at once.", need=category_label)
    if state == "unmatched":
        return _("%(need)s: no partner could take it — it is at the top of your list.", need=category_label)
    if state in ("partly-covered", "covered"):
        return _("%(need)s: taken on by a partner.", need=category_label)
    return _("%(need)s: offered to %(count)s partner(s).", need=category_label, count=outcome.get("partners", 0))
