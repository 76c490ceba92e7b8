"""How a concern reads to each reader: partners get the text with identity and mobile
numbers removed and never the caller's phone or the household; everyone else gets the
text with identity numbers removed, and the phone to call back."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from broker.people.concerns import PHONE_PATTERN_IN_TEXT, PHONE_PLACEHOLDER
from broker.platform import security
from broker.platform.scope import Principal
from broker.registry import privacy
from models import Concern, User


def redacted(text: str | None) -> str:
    """Free text with identity numbers and mobile numbers removed (for partners)."""
    return PHONE_PATTERN_IN_TEXT.sub(PHONE_PLACEHOLDER, privacy.redact(text))


def describe(session: Session, concern: Concern, principal: Principal) -> dict[str, Any]:
    """A concern as the principal may read it: partners get the text redacted and never
    the caller's phone."""
    partner_view = principal.role == "partner"
    owner = session.get(User, concern.owner_id) if concern.owner_id else None
    phone = None
    if concern.contact_phone_enc and not partner_view:
        phone = security.decrypt(concern.contact_phone_enc)
    return {
        "id": concern.id,
        "reference": concern.reference,
        "kind": concern.kind,
        "state": concern.state,
        "source": concern.source,
        "description": redacted(concern.description) if partner_view else privacy.redact(concern.description),
        "contact_phone": phone,
        "ref": concern.ref_code,
        "community": concern.community,
        "household_id": None if partner_view else concern.household_id,
        "partner_id": concern.partner_id,
        "notice_id": concern.notice_id,
        "owner": owner.display_name or owner.username if owner else None,
        "owner_id": concern.owner_id,
        "received_at": concern.created_at,
        "deadline_at": concern.deadline_at,
        "escalated_at": concern.escalated_at,
        "answer": redacted(concern.answer) if partner_view else concern.answer,
        "closed_at": concern.closed_at,
    }
