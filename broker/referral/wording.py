"""What the referral domain says to people, as text codes (see :mod:`broker.platform.texts`):
why routing chose a partner, why it left one out, why it found nobody, and the notes a
request or offer carries when it changes state. The domain stores the codes and their
parameters; the reader's language is chosen when they are shown."""

from __future__ import annotations

from typing import Any

from broker.money import report_basis
from broker.platform.errors import NotFound
from broker.platform.texts import N_, define, render
from broker.policy import catalogue

# How urgent a need is, as a parameter of the sentences below (the kinds of need are
# registered with the reports: ``category.<code>``, see broker.money.report_basis).
define(
    {
        "urgency.critical": N_("Critical"),
        "urgency.high": N_("Urgent"),
        "urgency.normal": N_("Normal"),
    }
)

# Why routing asked a partner (an offer's ``reasons``).
define(
    {
        "routing.serves": N_("serves %(category)s in %(grid)s"),
        "routing.serves_all_regions": N_("serves %(category)s in %(grid)s (all regions)"),
        "routing.serves_region": N_("serves %(category)s in %(region)s"),
        "routing.auto_grant": N_("auto-grant fund: within its limit of %(limit_fen)s, paid at once"),
        "routing.over_cap": N_(
            "auto-grant fund, but over its cap of %(cap_fen)s per household in %(days)s days "
            "(%(received_fen)s already granted): its people decide"
        ),
        "routing.urgent": N_("%(urgency)s need: answers within %(hours)s h"),
        "routing.available": N_("available %(available_fen)s"),
        "routing.from_parts": N_("money from %(parts)s"),
        "routing.part": N_("%(part)s: %(available_fen)s"),
        "routing.load": N_("open offers: %(count)s"),
        "routing.accepts": N_("accepts %(accepted)s of %(answered)s answered"),
        "routing.no_answers": N_("no answers yet"),
        "routing.rank": N_("rank %(rank)s of %(total)s"),
        "routing.one_at_a_time": N_("one partner is asked at a time for goods or a service"),
        "routing.whole": N_("can carry the whole %(amount_fen)s"),
        "routing.share": N_("offered %(share_fen)s of the %(gap_fen)s gap: no single partner can carry it"),
        "routing.by_hand": N_("referred by hand"),
        # Policy before charity: what a government policy is expected to pay is held back.
        "routing.policy_held": N_(
            "%(held_fen)s held for %(policy)s, which the household qualifies for: "
            "charities are offered only the rest until it applies and the application is decided"
        ),
        "routing.policy_held_application": N_(
            "%(held_fen)s held for %(policy)s: charities are offered only the rest until "
            "application #%(application)s is decided"
        ),
    }
)

# A policy hold as the request's page shows it (policy before charity).
define(
    {
        "hold.held": N_("%(held_fen)s held for %(policy)s: waiting for the household to apply"),
        "hold.held_application": N_("%(held_fen)s held for %(policy)s: waiting for application #%(application)s"),
        "hold.covered": N_("%(held_fen)s covered by %(policy)s: application #%(application)s approved"),
        "hold.released": N_(
            "%(held_fen)s released to charities: the %(policy)s application #%(application)s was not approved"
        ),
        "hold.overridden": N_("%(held_fen)s routed to charities at once, not waiting for %(policy)s: %(reason)s"),
    }
)


def policy_name(code: str) -> dict[str, str]:
    """A policy's name as a text parameter, said in the reader's language."""
    try:
        policy = catalogue.current().get(code)
    except NotFound:  # a policy file removed since: its code is all there is
        return {"zh_CN": code, "en": code}
    return {"zh_CN": policy.name, "en": policy.name_en}


def hold_note(status: str, policy_code: str, amount_fen: int, application_id: int | None, reason_text: str) -> dict:
    """What a policy hold means now, as one text code."""
    params: dict[str, Any] = {"policy": policy_name(policy_code), "held_fen": amount_fen}
    if application_id is not None:
        params["application"] = application_id
    if status == "held":
        return reason("hold.held_application" if application_id is not None else "hold.held", **params)
    if status == "overridden":
        params["reason"] = reason_text
    return reason(f"hold.{status}", **params)


# Why one partner was left out (``excluded`` of a routing decision).
EXCLUSIONS = {
    "inactive": N_("inactive"),
    "category_not_served": N_("does not serve this kind of need"),
    "region_not_served": N_("does not serve grid %(grid)s"),
    "waiting_answer": N_("already asked, answer pending"),
    "carrying": N_("already carrying part of it"),
    "declined": N_("declined it"),
    "expired": N_("did not answer in time"),
    "delivery_failed": N_("could not be reached"),
    "completed": N_("completed its part and can give no more"),
    "manual_referral": N_("referred to by hand only"),
    "short_of_funds": N_("has %(available)s available, %(needed)s needed"),
    "restricted_funds": N_(
        "has %(available)s that may pay for this need, %(needed)s needed; "
        "%(restricted)s more is restricted to other purposes or expired"
    ),
    "over_maximum": N_("gives at most %(maximum)s per request, %(needed)s needed"),
    "over_auto_grant_limit": N_("auto-grant limit %(limit)s, %(needed)s needed"),
    "one_at_a_time": N_("ranked %(rank)s: one partner is asked at a time"),
    "carried_by_higher": N_("ranked %(rank)s: a higher-ranked partner carries it all"),
    "covered_by_higher": N_("ranked %(rank)s: covered by higher-ranked partners"),
}
define({f"exclusion.{code}": msgid for code, msgid in EXCLUSIONS.items()})
define({"exclusion.partner": N_("%(partner)s: %(reason)s")})

# Why routing found nobody, for the request as a whole (``routing_reasons``);
# ``job_matching``: a job-support need no partner took goes to the openings and courses.
UNMATCHED_CODES = ("no_partner", "none_could_take", "short", "job_matching")
define(
    {
        "unmatched.no_partner": N_("No partner is set up in the broker yet."),
        "unmatched.none_could_take": N_("No partner in the broker could take this need."),
        "unmatched.short": N_("Partly covered: no partner can take the remaining %(gap)s."),
        "unmatched.job_matching": N_(
            "Handed to job matching: choose an opening or a course for a household member on the matches page."
        ),
    }
)

# Why a request was withdrawn: the caseworker picks one of these codes.
REVOKE_REASONS = {
    "need_met_elsewhere": N_("The need was met elsewhere"),
    "family_declined": N_("The family declined the help"),
    "family_moved": N_("The family moved away"),
    "no_longer_eligible": N_("No longer eligible"),
    "duplicate": N_("Recorded twice"),
    "other": N_("Other reason"),
}

# The note a request or offer carries after a change of state (``status_reason``), when
# the broker made the change; a person's own words are kept as they wrote them.
REQUEST_FULFILLED = "request_fulfilled"
FULFILLED_DISBURSED = "fulfilled_disbursed"
FULFILLED_BY_PARTNER = "fulfilled_by_partner"
FULFILLED_WITH_POLICY = "fulfilled_with_policy"
REQUEST_WITHDRAWN = "request_withdrawn"
REQUEST_IN_ERROR = "request_entered_in_error"
CONFIRMED_BY_CASEWORKER = "confirmed_by_caseworker"
CASEWORKER_CONFIRMED = "caseworker_confirmed"
PLACED_IN_JOB = "placed_in_job"
COMPLETED_BY_PARTNER = "completed_by_partner"
FULLY_DISBURSED = "fully_disbursed"
DELIVERY_FAILED = "delivery_failed"
NAMES_WITHHELD = "names_withheld_consent_withdrawn"
STATUS_NOTES = {
    NAMES_WITHHELD: N_("delivered without the family's names: it withdrew its consent to share them"),
    DELIVERY_FAILED: N_("the partner's system could not be reached, however often it was tried"),
    REQUEST_FULFILLED: N_("the request is fulfilled"),
    FULFILLED_DISBURSED: N_("fulfilled: the disbursements cover the amount"),
    FULFILLED_BY_PARTNER: N_("fulfilled by the partner"),
    FULFILLED_WITH_POLICY: N_("fulfilled: the disbursements and the approved policy cover the amount"),
    REQUEST_WITHDRAWN: N_("the request was withdrawn"),
    REQUEST_IN_ERROR: N_("the request was entered in error"),
    CONFIRMED_BY_CASEWORKER: N_("confirmed fulfilled by the caseworker"),
    CASEWORKER_CONFIRMED: N_("the caseworker confirmed the request fulfilled"),
    PLACED_IN_JOB: N_("fulfilled: the member was placed in a job"),
    COMPLETED_BY_PARTNER: N_("completed by the partner"),
    FULLY_DISBURSED: N_("fully disbursed"),
    "expired": N_("expired unanswered"),
    "breaker_open": N_("the partner's system is not answering"),
    "withdrawn": N_("withdrawn"),
    **REVOKE_REASONS,
}
define({f"status.{code}": msgid for code, msgid in STATUS_NOTES.items()})
define({f"revoke_reason.{code}": msgid for code, msgid in REVOKE_REASONS.items()})


# What happened, on a request's timeline: the audit log's action names.
EVENTS = {
    "request.created": N_("Request created"),
    "request.routed": N_("Routing decided"),
    "request.completed": N_("Request completed"),
    "request.unmatched": N_("No partner could take the request"),
    "request.revoked": N_("Request withdrawn"),
    "request.entered_in_error": N_("Request marked as entered in error"),
    "request.reopened": N_("Request reopened for routing"),
    "request.referred": N_("Referred by hand"),
    "request.job_enrolled": N_("Enrolled on a skills course"),
    "request.job_placed": N_("Placed in a job"),
    "request.routing_state": N_("Routing state changed"),
    "request.auto_retry_set": N_("Automatic retry changed"),
    "partner.created": N_("Organisation recorded"),
    "request.held": N_("Request put on hold"),
    "request.resumed": N_("Request resumed"),
    "offer.created": N_("Offer made to a partner"),
    "offer.delivered": N_("Offer delivered"),
    "offer.accepted": N_("Offer accepted"),
    "offer.rejected": N_("Offer declined"),
    "offer.declined": N_("Offer declined by the partner's rules"),
    "offer.started": N_("Delivery of help started"),
    "offer.completed": N_("Offer completed"),
    "offer.expired": N_("Offer expired unanswered"),
    "offer.withdrawn": N_("Offer withdrawn"),
    "offer.delivery_failed": N_("Offer could not be delivered"),
    "ledger.pledge": N_("Money pledged"),
    "ledger.release": N_("Pledge released"),
    "ledger.disbursement": N_("Money paid to the family"),
    "ledger.deposit": N_("Deposit"),
    "disbursement.recorded": N_("Disbursement recorded"),
    "follow_up.scheduled": N_("Follow-up visit scheduled"),
    "follow_up.due": N_("Follow-up visit due"),
    "follow_up.recorded": N_("Follow-up visit recorded"),
    "follow_up.cancelled": N_("Follow-up visit cancelled"),
    "receipt.recorded": N_("The family confirmed receipt"),
    "receipt.code_sent": N_("Receipt code sent to the family's phone"),
    "policy_hold.held": N_("Part held for a government policy"),
    "policy_hold.covered": N_("Held part covered by the approved policy"),
    "policy_hold.released": N_("Held part released to charities: the application was not approved"),
    "policy_hold.overridden": N_("Caseworker routed the need in full without waiting for the policy"),
}
define({f"event.{action}": msgid for action, msgid in EVENTS.items()})


def event(action: str | None) -> dict[str, Any] | str | None:
    """A timeline event's name as a text code (an action without a name, as it is)."""
    if not action:
        return None
    return reason(f"event.{action}") if action in EVENTS else action


def reason(code: str, **params: Any) -> dict[str, Any]:
    """One stored reason: ``{"code": "routing.rank", "params": {"rank": 1, "total": 2}}``."""
    return {"code": code, "params": params}


def category(code: str) -> dict[str, Any] | str:
    """A category as a parameter: its code when it has a name, else as it is."""
    return reason(f"category.{code}") if code in report_basis.CATEGORY_NAMES else code


def said(item: Any, locale: str | None = None) -> str:
    """One reason as the reader reads it: a stored code rendered, or — from before codes
    were stored — the text as it is."""
    if isinstance(item, dict) and item.get("code"):
        return render(str(item["code"]), item.get("params"), locale)
    return "" if item is None else str(item)


def status_note(value: str | None) -> dict[str, Any] | None:
    """A ``status_reason`` as code and parameters: the broker's notes are codes; a
    person's own words (a partner's reason for declining) have no code and read as written."""
    if not value:
        return None
    if value in STATUS_NOTES:
        return {"code": f"status.{value}", "params": {}}
    return {"code": None, "params": {}, "text": value}


def status_said(value: str | None, locale: str | None = None) -> str:
    note = status_note(value)
    if note is None:
        return ""
    return render(note["code"], None, locale) if note["code"] else str(note["text"])


def exclusion(entry: dict[str, Any], locale: str | None = None) -> str:
    """One partner left out, in the reader's language (an entry from before codes were
    stored shows its English reason)."""
    code = entry.get("code") or ""
    if code not in EXCLUSIONS:
        return str(entry.get("reason") or code)
    return render(f"exclusion.{code}", entry.get("params") or {}, locale)


def unmatched(reasons: dict[str, Any] | None, locale: str | None = None) -> str:
    """Why routing found nobody for the request."""
    code = (reasons or {}).get("code") or "none_could_take"
    if code not in UNMATCHED_CODES:
        code = "none_could_take"
    return render(f"unmatched.{code}", {"gap_fen": (reasons or {}).get("gap_fen")}, locale)


def unmatched_text(reasons: dict[str, Any] | None) -> dict[str, Any] | None:
    """``routing_reasons`` as one text code: why routing found nobody."""
    if not reasons:
        return None
    code = reasons.get("code") if reasons.get("code") in UNMATCHED_CODES else None
    return reason(f"unmatched.{code or 'none_could_take'}", gap_fen=reasons.get("gap_fen"))


def excluded_texts(reasons: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Each partner left out as one text code: ``甲：declined it``."""
    out = []
    for entry in (reasons or {}).get("excluded") or []:
        code = entry.get("code") or ""
        why = reason(f"exclusion.{code}", **(entry.get("params") or {})) if code in EXCLUSIONS else entry.get("reason")
        out.append(reason("exclusion.partner", partner=entry.get("partner") or "", reason=why or code))
    return out
