"""Whether the family agreed to a purpose, asked at the moment the broker acts.

Every part of the broker that shares, publishes or sends something about a household
asks :func:`permits` just before it acts (not when the request was made), so that a
consent withdrawn in between stops what has not yet left.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Household

SHARE_WITH_PARTNERS = "share_with_partners"
PUBLIC_NOTICE = "public_notice"
SMS = "sms"
POINTS = "points"
VOLUNTEER_CONTACT = "volunteer_contact"
PURPOSES = (SHARE_WITH_PARTNERS, PUBLIC_NOTICE, SMS, POINTS, VOLUNTEER_CONTACT)


def permits(session: Session, household_id: int, purpose: str, member_id: int | None = None) -> bool:
    """True when the household agreed to ``purpose``.

    The registry records one agreement per household today (``consent_to_share``); it
    answers for every purpose until consent is recorded per member and purpose."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown consent purpose: {purpose}")
    agreed = session.scalar(select(Household.consent_to_share).where(Household.id == household_id))
    return bool(agreed)
