"""The words for consent on the page: what a family may agree to, and why the broker
turned a consent form away (the registry's refusal codes)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

PURPOSES = {
    "share_with_partners": _l("Partners may see the family's names"),
    "public_notice": _l("May be named in a public notice"),
    "sms": _l("Receives text messages"),
    "points": _l("Takes part in volunteer points"),
    "volunteer_contact": _l("Volunteers may contact them"),
}
# Refusals of the consent forms, by the domain's code.
MESSAGES = {
    "guardian_required": _l("This member is a minor: choose the guardian who signs for them."),
    "guardian_invalid": _l("The guardian must be another adult member of the household."),
    "unknown_member": _l("Choose a member of this household."),
    "evidence_required": _l("Give the number of the signed form or take a photo of it."),
    "consent_exists": _l("This consent is already recorded."),
    "consent_withdrawn": _l("This consent was already withdrawn."),
    "not_an_image": _l("Only a photo or a scanned image can be kept."),
    "file_too_large": _l("The photo is too large; take it again at a lower resolution."),
    "file_empty": _l("The file is empty. Take the photo again."),
}
