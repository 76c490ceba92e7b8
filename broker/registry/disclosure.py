"""Minimum disclosure, decided in one place: what each recipient sees of a household.

Every path that hands something about a family to someone outside its caseworkers —
the partner's portal page, the offers API, the webhook body an adapter carries, the
partner's export — asks :func:`disclose` for the household as that recipient may see it,
and sends only what comes back. The purpose a recipient serves is asked of the family's
consent (:func:`broker.registry.consents.permits`) at that moment, so a consent withdrawn
between the routing and the delivery already holds. The matrix (recipient × field) is
:data:`MATRIX`, and the README shows it.

Rules: ``full`` as recorded; ``masked`` (王**, 110105********123X); ``consent`` full with
the purpose's consent, else masked (names) or left out (contact details); ``redacted``
free text with the family's names and address and every phone, ID and card number
removed (:mod:`.redaction`); ``ids_masked`` free text with ID numbers masked only;
``none`` left out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from broker.platform.errors import NotFound
from broker.registry import consents, privacy, redaction
from models import Household

PARTNER_PORTAL = "partner_portal"
PARTNER_API = "partner_api"
PARTNER_WEBHOOK = "partner_webhook"
PARTNER_EXPORT = "partner_export"
VOLUNTEER = "volunteer"
PUBLIC_NOTICE = "public_notice"
CASEWORKER = "caseworker"
AUDITOR = "auditor"
PARTNERS = (PARTNER_PORTAL, PARTNER_API, PARTNER_WEBHOOK, PARTNER_EXPORT)
RECIPIENTS = (*PARTNERS, VOLUNTEER, PUBLIC_NOTICE, CASEWORKER, AUDITOR)

FIELDS = (
    "household_name",
    "member_names",
    "community",
    "address",
    "phone",
    "id_numbers",
    "health",
    "minors",
    "income",
    "free_text",
)
_PARTNER = {
    "household_name": "consent",
    "member_names": "none",
    "community": "full",
    "address": "none",
    "phone": "none",
    "id_numbers": "none",
    "health": "none",
    "minors": "none",
    "income": "none",
    "free_text": "redacted",
}
_STAFF = {
    "household_name": "full",
    "member_names": "full",
    "community": "full",
    "address": "full",
    "phone": "full",
    "id_numbers": "masked",
    "health": "full",
    "minors": "full",
    "income": "full",
    "free_text": "ids_masked",
}
MATRIX: dict[str, dict[str, str]] = {
    **dict.fromkeys(PARTNERS, _PARTNER),
    VOLUNTEER: {**_PARTNER, "address": "consent", "phone": "consent"},
    PUBLIC_NOTICE: {**_PARTNER, "household_name": "masked"},
    CASEWORKER: _STAFF,
    AUDITOR: _STAFF,
}
# The consent purpose each recipient's sharing is for (staff need none: the family's
# record is theirs to keep).
PURPOSES: dict[str, str | None] = {
    **dict.fromkeys(PARTNERS, consents.SHARE_WITH_PARTNERS),
    VOLUNTEER: consents.VOLUNTEER_CONTACT,
    PUBLIC_NOTICE: consents.PUBLIC_NOTICE,
    CASEWORKER: None,
    AUDITOR: None,
}


@dataclass(frozen=True)
class Disclosed:
    """A household as one recipient may see it: ``fields`` holds only what the matrix
    lets through; :meth:`text` makes free text fit to go to that recipient."""

    household_id: int
    recipient: str
    consented: bool
    fields: dict[str, Any]
    known: redaction.Known = field(repr=False, default=redaction.Known())

    def text(self, value: str | None) -> str:
        """Free text about this household, as this recipient may read it."""
        rule = MATRIX[self.recipient]["free_text"]
        if rule == "redacted":
            return privacy.redact(value, self.known)
        if rule == "ids_masked":
            return redaction.mask_id_numbers(value)
        return ""


def _shown(rule: str, consented: bool) -> str:
    if rule == "consent":
        return "full" if consented else "masked"
    return rule


def disclose(session: Session, household_id: int, recipient: str, *, partner_kind: str | None = None) -> Disclosed:
    """What ``recipient`` (one of :data:`RECIPIENTS`) may see of the household, asked of
    the family's consent for the recipient's purpose now (for a partner, of its kind:
    a family may agree to share with charities only)."""
    if recipient not in MATRIX:
        raise ValueError(f"unknown recipient: {recipient}")
    # Through the identity map: the household, its grid and its members are read once
    # in a transaction that also checks a policy or a consent for the family.
    household = session.get(Household, household_id)
    if household is None:
        raise NotFound("No such household.")
    community, members = household.grid.community, list(household.members)
    purpose = PURPOSES[recipient]
    consented = purpose is None or consents.permits(session, household_id, purpose, partner_kind=partner_kind)
    rules = {name: _shown(rule, consented) for name, rule in MATRIX[recipient].items()}
    head = household.head_name or next((m.name for m in members if m.relation == "head"), "")
    values: dict[str, Any] = {"community": community}
    if rules["household_name"] != "none":
        full = rules["household_name"] == "full"
        values["household_name"] = privacy.household_name(head, full)
        values["household_label"] = privacy.household_label(head, full)
    for name, value in (("address", household.address), ("phone", household.phone)):
        if rules[name] == "full":
            values[name] = value
    if rules["member_names"] == "full":
        values["member_names"] = [m.name for m in members]
    if rules["income"] == "full":
        values["monthly_income_fen"] = household.monthly_income_fen
    known = redaction.Known(
        names=tuple(n for n in {head, *(m.name for m in members)} if n), address=household.address or ""
    )
    return Disclosed(household_id, recipient, consented, values, known)
