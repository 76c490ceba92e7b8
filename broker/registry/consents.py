"""Whether the family agreed to a purpose, asked at the moment the broker acts.

Every part of the broker that shares, publishes or sends something about a household
asks :func:`permits` just before it acts (not when the request was made), so that a
consent withdrawn in between stops what has not yet left.

The answer comes from the consent records (:mod:`.consent_records` keeps them): one per
member and purpose, recorded by the caseworker with its evidence, current until it is
withdrawn. A household permits a purpose when its head — or the member asked about —
has a current consent for it; a minor's consent counts only when a guardian gave it.
Sharing with partners may be narrowed to some kinds of partner (a charity, not a
company): asked with ``partner_kind``, a consent narrowed to other kinds does not count;
asked without, only an unnarrowed one does.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import Consent, Household, Member
from models.consent import CONSENT_PURPOSES

SHARE_WITH_PARTNERS = "share_with_partners"
PUBLIC_NOTICE = "public_notice"
SMS = "sms"
POINTS = "points"
VOLUNTEER_CONTACT = "volunteer_contact"
# The table's check constraint names the same purposes, in this order.
PURPOSES: tuple[str, ...] = CONSENT_PURPOSES

ADULT_AGE = 18
HEAD_RELATIONS = ("head", "户主")
# Key of ``session.info`` under which a unit of work that changes no consent (one routing
# of a batch) keeps the answers of :func:`permits`, asked several times per offer.
PERMITS_MEMO = "consents.permits_memo"
# Key of ``session.info`` under which a transaction that changes no consent (a batch of
# routings) keeps its households' current consents, read for them all at once.
CURRENT_MEMO = "consents.current_memo"


def is_minor(member: Member, today: date | None = None) -> bool:
    """Under 18 today (a member of unknown birth date is taken to be an adult)."""
    if member.birth_date is None:
        return False
    today = today or date.today()
    born = member.birth_date
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return age < ADULT_AGE


def head_member(session: Session, household_id: int) -> Member | None:
    """The household's head: the member recorded as head, else the one named as head,
    else its first member."""
    # The household and its members as this transaction already holds them (routing
    # reads them for the policy check, then asks for consent and discloses): one read.
    household = session.get(Household, household_id)
    if household is None:
        return None
    people, head_name = list(household.members), household.head_name
    return (
        next((m for m in people if m.relation in HEAD_RELATIONS), None)
        or next((m for m in people if m.name == head_name), None)
        or (people[0] if people else None)
    )


def current(
    session: Session, household_id: int, purpose: str | None = None, *, at: datetime | None = None
) -> list[Consent]:
    """The household's consents current now (or at ``at``), oldest first."""
    memo = session.info.get(CURRENT_MEMO) if at is None else None
    if memo is not None and household_id in memo:
        return [c for c in memo[household_id] if purpose is None or c.purpose == purpose]
    stmt = select(Consent).where(Consent.household_id == household_id)
    if purpose is not None:
        stmt = stmt.where(Consent.purpose == purpose)
    if at is None:
        stmt = stmt.where(Consent.withdrawn_at.is_(None))
    else:
        stmt = stmt.where(Consent.recorded_at <= at, or_(Consent.withdrawn_at.is_(None), Consent.withdrawn_at > at))
    return list(session.execute(stmt.order_by(Consent.id)).scalars())


def current_of(session: Session, household_ids: list[int]) -> dict[int, list[Consent]]:
    """The consents current now of each of these households, oldest first (what
    :data:`CURRENT_MEMO` holds)."""
    found: dict[int, list[Consent]] = {hid: [] for hid in household_ids}
    stmt = (
        select(Consent)
        .where(Consent.household_id.in_(household_ids), Consent.withdrawn_at.is_(None))
        .order_by(Consent.id)
    )
    for consent in session.execute(stmt).scalars():
        found[consent.household_id].append(consent)
    return found


def _covers(consent: Consent, partner_kind: str | None) -> bool:
    kinds = consent.partner_kinds or []
    return not kinds if partner_kind is None else (not kinds or partner_kind in kinds)


def permits(
    session: Session,
    household_id: int,
    purpose: str,
    member_id: int | None = None,
    *,
    partner_kind: str | None = None,
    at: datetime | None = None,
) -> bool:
    """True when the household agreed to ``purpose``: its head (or ``member_id``) has a
    current consent for it — given by a guardian, for a minor — that covers
    ``partner_kind`` (when sharing with partners). ``at`` asks about a past moment."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown consent purpose: {purpose}")
    memo = session.info.get(PERMITS_MEMO)
    if memo is None:
        return _permits(session, household_id, purpose, member_id, partner_kind, at)
    key = (household_id, purpose, member_id, partner_kind, at)
    if key not in memo:
        memo[key] = _permits(session, household_id, purpose, member_id, partner_kind, at)
    return memo[key]


def _permits(
    session: Session,
    household_id: int,
    purpose: str,
    member_id: int | None,
    partner_kind: str | None,
    at: datetime | None,
) -> bool:
    head = head_member(session, household_id)
    subject_id = member_id if member_id is not None else (head.id if head else None)
    subject = session.get(Member, subject_id) if subject_id is not None else None
    if subject is not None and subject.household_id != household_id:
        return False
    is_head = head is not None and subject_id == head.id
    minor = subject is not None and is_minor(subject)
    for consent in current(session, household_id, purpose, at=at):
        if consent.member_id != subject_id and not (consent.member_id is None and (is_head or head is None)):
            continue
        if minor and consent.guardian_member_id is None:
            continue
        if _covers(consent, partner_kind if purpose == SHARE_WITH_PARTNERS else None):
            return True
    return False


def withdrawn_between(session: Session, household_id: int, purpose: str, since: datetime) -> bool:
    """Whether a consent of the household to ``purpose`` was withdrawn after ``since``:
    something made while the family agreed may be about to leave after it changed its mind."""
    return (
        session.scalar(
            select(Consent.id)
            .where(
                Consent.household_id == household_id,
                Consent.purpose == purpose,
                Consent.withdrawn_at.is_not(None),
                Consent.withdrawn_at >= since,
            )
            .limit(1)
        )
        is not None
    )
