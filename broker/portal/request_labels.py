"""The words for a request's lifecycle on the page: its routing state, why it was
withdrawn, and why routing found no partner — the domain stores these as codes with
parameters, and they are said here in the reader's language."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from broker.platform import amounts

ROUTING_STATES = {
    "routing": _l("Finding a partner"),
    "offered": _l("Offered to partners"),
    "partly-covered": _l("Partly covered"),
    "covered": _l("Covered"),
    "unmatched": _l("No partner could take it"),
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
# Why routing found nobody, for the request as a whole.
UNMATCHED = {
    "no_partner": _l("No partner is set up in the broker yet."),
    "none_could_take": _l("No partner in the broker could take this need."),
    "short": _l("Partly covered: no partner can take the remaining %(gap)s."),
}
# Why one partner was left out (parameters in fen become yuan).
EXCLUSIONS = {
    "inactive": _l("inactive"),
    "category_not_served": _l("does not serve this kind of need"),
    "region_not_served": _l("does not serve grid %(grid)s"),
    "waiting_answer": _l("already asked, answer pending"),
    "carrying": _l("already carrying part of it"),
    "declined": _l("declined it"),
    "expired": _l("did not answer in time"),
    "delivery_failed": _l("could not be reached"),
    "completed": _l("completed its part and can give no more"),
    "manual_referral": _l("referred to by hand only"),
    "short_of_funds": _l("has %(available)s available, %(needed)s needed"),
    "over_maximum": _l("gives at most %(maximum)s per request, %(needed)s needed"),
    "over_auto_grant_limit": _l("auto-grant limit %(limit)s, %(needed)s needed"),
    "one_at_a_time": _l("ranked %(rank)s: one partner is asked at a time"),
    "carried_by_higher": _l("ranked %(rank)s: a higher-ranked partner carries it all"),
    "covered_by_higher": _l("ranked %(rank)s: covered by higher-ranked partners"),
}


def _params(params: dict[str, Any]) -> dict[str, Any]:
    """``available_fen`` → ``available`` as yuan; other parameters as they are."""
    out: dict[str, Any] = {}
    for key, value in (params or {}).items():
        if key.endswith("_fen"):
            out[key[: -len("_fen")]] = amounts.yuan(value)
        else:
            out[key] = value
    return out


def exclusion(entry: dict[str, Any]) -> str:
    """One partner left out, as the reader reads it: its code said in their language (an
    entry from before codes were stored shows its English reason)."""
    template = EXCLUSIONS.get(entry.get("code") or "")
    if template is None:
        return str(entry.get("reason") or entry.get("code") or "")
    try:
        return str(template) % _params(entry.get("params") or {})
    except (KeyError, TypeError, ValueError):
        return str(template)


def unmatched(reasons: dict[str, Any] | None) -> str:
    """Why routing found nobody for the request."""
    if not reasons:
        return str(UNMATCHED["none_could_take"])
    template = UNMATCHED.get(reasons.get("code") or "", UNMATCHED["none_could_take"])
    return (
        str(template) % {"gap": amounts.yuan(reasons.get("gap_fen"))} if "%(gap)s" in str(template) else str(template)
    )


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
