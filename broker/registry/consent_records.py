"""Keeping consent records: a caseworker of the household's grid records a member's
agreement to a purpose (a guardian's, for a minor) with its evidence — a reference to
the signed form and, taken on the phone, its photo — and withdraws it, saying why.
Auditors and admins read them; partners never see them. Each change is on the audit
chain, by member id and purpose (no names), and keeps the household's
``consent_to_share`` in step: that column is derived, the head's current consent to
share with every kind of partner, kept because policy rules filter on it as a column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.platform import photos
from broker.platform.errors import Conflict, Forbidden, Invalid, NotFound, found
from broker.platform.scope import Principal
from broker.platform.texts import N_, define
from broker.registry.access import require_registry
from broker.registry.consents import PURPOSES, SHARE_WITH_PARTNERS, current, head_member, is_minor, permits
from models import Consent, Household, Member
from models.base import utcnow
from models.partners import PARTNER_KINDS

FOLDER = "consent_forms"
CARRIED_OVER = "recorded before consent records"  # the evidence of a carried-over agreement
FROM_HOUSEHOLD_FLAG = "consent_to_share"  # evidence and reason when the flag was written
REASON_MAX = 500
SYSTEM = "system"

define(
    {
        "consent.evidence.carried_over": N_("recorded before consent records"),
        "consent.evidence.household_flag": N_("recorded through the household's consent_to_share field"),
    }
)


@dataclass(frozen=True)
class Photo:
    filename: str
    data: bytes


def consent_household(session: Session, principal: Principal, household_id: int, *, write: bool) -> Household:
    """The household, in scope: partners 403; caseworkers outside their grids 404;
    writing is for its caseworkers only (auditors and admins read)."""
    require_registry(principal, write=write)
    household = found(session.get(Household, household_id), "household")
    principal.require_grid(household.grid_id, write=write)
    if write and principal.role != "caseworker":
        raise Forbidden("Consent is recorded and withdrawn by a caseworker of the household's grid.")
    return household


def list_consents(session: Session, principal: Principal, household_id: int) -> list[Consent]:
    """Every consent of the household, current and withdrawn, oldest first."""
    consent_household(session, principal, household_id, write=False)
    stmt = select(Consent).where(Consent.household_id == household_id).order_by(Consent.id)
    return list(session.execute(stmt).scalars())


def get_consent(session: Session, principal: Principal, consent_id: int, *, write: bool = False) -> Consent:
    """One consent, if the principal may see (or, with ``write``, change) its household."""
    require_registry(principal, write=write)
    consent = found(session.get(Consent, consent_id), "consent")
    try:
        consent_household(session, principal, consent.household_id, write=write)
    except NotFound:
        raise NotFound("No such consent.") from None
    return consent


def _member(session: Session, household: Household, member_id: Any, field: str) -> Member:
    member = session.get(Member, member_id) if isinstance(member_id, int) else None
    if member is None or member.household_id != household.id:
        raise Invalid(
            "Choose a member of this household.", code="unknown_member", details={field: ["not in this household"]}
        )
    return member


def _check(session: Session, household: Household, data: dict, photo: Photo | None) -> tuple[Member, Member | None]:
    purpose = data.get("purpose")
    if purpose not in PURPOSES:
        raise Invalid("Choose what the family agrees to.", details={"purpose": [f"one of {', '.join(PURPOSES)}"]})
    member = _member(session, household, data.get("member_id"), "member_id")
    guardian_id = data.get("guardian_member_id")
    guardian = _member(session, household, guardian_id, "guardian_member_id") if guardian_id is not None else None
    if is_minor(member) and guardian is None:
        raise Invalid(
            f"{member.name} is a minor: name the guardian who agrees for them.",
            code="guardian_required",
            details={"guardian_member_id": ["required for a minor"]},
        )
    if guardian is not None and (guardian.id == member.id or is_minor(guardian) or guardian.deceased_on):
        raise Invalid(
            "The guardian must be another, living, adult member of the household.",
            code="guardian_invalid",
            details={"guardian_member_id": ["not an adult member who can agree for them"]},
        )
    kinds = data.get("partner_kinds") or []
    if kinds and purpose != SHARE_WITH_PARTNERS:
        raise Invalid(
            "Only sharing with partners can be narrowed to kinds of partner.",
            details={"partner_kinds": ["only for share_with_partners"]},
        )
    if any(k not in PARTNER_KINDS for k in kinds):
        known = ", ".join(PARTNER_KINDS)
        raise Invalid("Unknown kind of partner.", details={"partner_kinds": [f"each one of {known}"]})
    if not (data.get("evidence") or "").strip() and photo is None:
        raise Invalid(
            "Give the signed form's reference or a photo of it.",
            code="evidence_required",
            details={"evidence": ["a reference or a photo is needed"]},
        )
    return member, guardian


def record(
    session: Session, principal: Principal, household_id: int, data: dict, photo: Photo | None = None
) -> Consent:
    """Record that ``member_id`` agrees to ``purpose`` (for a minor, by
    ``guardian_member_id``), optionally only for some ``partner_kinds``, with the
    ``evidence`` reference and/or the form's ``photo``. The same agreement still current
    is a 409 ``consent_exists``: sending the form twice records it once."""
    household = consent_household(session, principal, household_id, write=True)
    member, guardian = _check(session, household, data, photo)
    kinds = sorted(set(data.get("partner_kinds") or []))
    for existing in current(session, household.id, data["purpose"]):
        if existing.member_id == member.id and sorted(existing.partner_kinds or []) == kinds:
            raise Conflict(
                "This consent is already recorded and current.",
                code="consent_exists",
                details={"consent_id": existing.id},
            )
    consent = Consent(
        household_id=household.id,
        member_id=member.id,
        guardian_member_id=guardian.id if guardian else None,
        purpose=data["purpose"],
        partner_kinds=kinds,
        evidence=(data.get("evidence") or "").strip(),
        recorded_by_id=principal.user_id,
        recorded_by=principal.username,
        recorded_at=utcnow(),
    )
    if photo is not None:
        kept = photos.keep(FOLDER, photo.data)
        consent.evidence_token = kept.token
        consent.evidence_content_type = kept.content_type
        consent.evidence_size = kept.size
        consent.evidence_sha256 = kept.sha256
    session.add(consent)
    session.flush()
    audit.record(session, "consent.recorded", consent, household_id=household.id, after=summary(consent))
    sync_household(session, household)
    return consent


def withdraw(session: Session, principal: Principal, consent_id: int, reason: str) -> Consent:
    """Withdraw a current consent, with the family's reason; from now on every part of
    the broker that asks :func:`permits` is told no. Withdrawn already: 409."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Say why the consent is withdrawn.", details={"reason": ["blank"]})
    consent = get_consent(session, principal, consent_id, write=True)
    if consent.withdrawn_at is not None:
        raise Conflict(
            "This consent was withdrawn already.",
            code="consent_withdrawn",
            details={"withdrawn_at": consent.withdrawn_at.isoformat()},
        )
    _withdraw(consent, reason[:REASON_MAX], principal.user_id, principal.username)
    session.flush()
    audit.record(
        session,
        "consent.withdrawn",
        consent,
        household_id=consent.household_id,
        before={"withdrawn": False},
        after={"withdrawn": True, **summary(consent)},
    )
    sync_household(session, session.get(Household, consent.household_id))
    return consent


def _withdraw(consent: Consent, reason: str, by_id: int | None, by: str) -> None:
    consent.withdrawn_at = utcnow()
    consent.withdrawn_by_id = by_id
    consent.withdrawn_by = by
    consent.withdrawal_reason = reason


def summary(consent: Consent) -> dict[str, Any]:
    """The consent for the audit chain: ids, purpose and kinds — no names, no evidence text."""
    return {
        "member_id": consent.member_id,
        "guardian_member_id": consent.guardian_member_id,
        "purpose": consent.purpose,
        "partner_kinds": list(consent.partner_kinds or []),
        "evidence_photo_sha256": consent.evidence_sha256,
    }


def sync_household(session: Session, household: Household) -> None:
    """``consent_to_share`` as the records say: the head agrees to share with every kind."""
    household.consent_to_share = permits(session, household.id, SHARE_WITH_PARTNERS)


def follow_flag(session: Session, household: Household, wanted: bool, *, by_id: int | None, by: str) -> None:
    """A client wrote ``consent_to_share`` (the API's field from before consent records,
    the survey import): record the head's consent to share, or withdraw the head's
    current ones. The household must be flushed (its members have ids)."""
    if bool(wanted) == permits(session, household.id, SHARE_WITH_PARTNERS):
        household.consent_to_share = bool(wanted)
        return
    head = head_member(session, household.id)
    if wanted:
        consent = Consent(
            household_id=household.id,
            member_id=head.id if head else None,
            purpose=SHARE_WITH_PARTNERS,
            partner_kinds=[],
            evidence=FROM_HOUSEHOLD_FLAG,
            recorded_by_id=by_id,
            recorded_by=by,
            recorded_at=utcnow(),
        )
        session.add(consent)
        session.flush()
        audit.record(session, "consent.recorded", consent, household_id=household.id, after=summary(consent))
    else:
        for consent in current(session, household.id, SHARE_WITH_PARTNERS):
            if consent.member_id in (None, head.id if head else None):
                _withdraw(consent, FROM_HOUSEHOLD_FLAG, by_id, by)
                session.flush()
                audit.record(
                    session,
                    "consent.withdrawn",
                    consent,
                    household_id=household.id,
                    before={"withdrawn": False},
                    after={"withdrawn": True, **summary(consent)},
                )
    sync_household(session, household)


def evidence_photo(session: Session, principal: Principal, consent_id: int) -> tuple[Consent, bytes]:
    """The photo of the signed form, for those who may see the household."""
    consent = get_consent(session, principal, consent_id)
    if not consent.evidence_token or not consent.evidence_sha256:
        raise NotFound("This consent has no photo of its form.", code="no_photo")
    return consent, photos.read(FOLDER, consent.evidence_token, consent.evidence_sha256)


def evidence_text(evidence: str | None) -> dict[str, Any] | None:
    """A consent's ``evidence`` as a reader sees it: the system's own notes as text
    codes, a caseworker's reference as they wrote it (none: None)."""
    if evidence == CARRIED_OVER:
        return {"code": "consent.evidence.carried_over", "params": {}}
    if evidence == FROM_HOUSEHOLD_FLAG:
        return {"code": "consent.evidence.household_flag", "params": {}}
    return {"code": None, "params": {}, "text": evidence} if evidence else None
