"""The family confirms that what a partner disbursed reached it (签收): on the
caseworker's phone — a signature drawn on screen, or a photo of the signed slip — or
with a one-time code sent by SMS to the family's phone and typed in by the caseworker.

A receipt is recorded once per disbursement: the same confirmation sent again (a form
sent twice) answers with the receipt already recorded. Codes are kept only as a keyed
hash; they expire and allow a few wrong tries, each counted even though the answer is a
refusal (the caller commits before it raises :attr:`Outcome.refusal`). Only caseworkers
of the household's grid (and admins) record receipts or send codes; partners never do.

What is still unconfirmed after the partner's ``receipt_within_days`` is
:func:`unreceived`, for the caseworker's, the partner's and the auditor's lists."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.people import family_messages
from broker.platform import photos, runtime, security
from broker.platform.errors import Conflict, DomainError, Invalid, found
from broker.platform.scope import Principal
from broker.registry import consents
from broker.registry.access import require_registry
from models import Disbursement, Household, Partner, Receipt, ReceiptCode
from models.base import utcnow

FOLDER = "receipts"
CODE_DIGITS = 6
RESEND_AFTER = timedelta(seconds=60)  # a code asked for again within this is not sent twice
METHODS = ("signature", "photo", "code")


@dataclass(frozen=True)
class Outcome:
    """What recording a receipt came to: the receipt (``created`` when this call recorded
    it), or a refusal to raise once the caller has committed (a wrong code's try counts)."""

    receipt: Receipt | None
    created: bool = False
    refusal: DomainError | None = None


@dataclass(frozen=True)
class CodeSent:
    """A code is on its way to the family's phone (shown masked), valid until ``expires_at``."""

    disbursement_id: int
    expires_at: datetime
    phone_hint: str


@dataclass(frozen=True)
class Unreceived:
    """A disbursement the family has not confirmed within the partner's days."""

    disbursement: Disbursement
    partner_name: str
    days_allowed: int
    due_at: datetime


def _disbursement(session: Session, principal: Principal, disbursement_id: int, *, lock: bool = False) -> Disbursement:
    """The disbursement, if the principal may record its receipt: partners and auditors
    are refused (403), a caseworker of another grid finds nothing (404)."""
    require_registry(principal, write=True)
    stmt = select(Disbursement).where(Disbursement.id == disbursement_id)
    if lock:
        stmt = stmt.with_for_update()
    row = found(session.execute(stmt).scalar_one_or_none(), "disbursement")
    principal.require_grid(row.grid_id, write=True, what="disbursement")
    return row


def receipt_of(session: Session, disbursement_id: int) -> Receipt | None:
    return session.execute(select(Receipt).where(Receipt.disbursement_id == disbursement_id)).scalar_one_or_none()


def _code_hash(disbursement_id: int, code: str) -> str:
    return security.keyed_hash(f"receipt-code:{disbursement_id}:{code}")


def _masked(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 8 else "****"


def send_code(session: Session, principal: Principal, disbursement_id: int) -> CodeSent:
    """Send the family a one-time code by SMS (with its consent, to its phone). Asked
    again within a minute, the code already sent stands (a form sent twice sends one
    SMS); a new code later replaces the old one."""
    row = _disbursement(session, principal, disbursement_id, lock=True)
    if receipt_of(session, row.id) is not None:
        raise Conflict("The family has already confirmed this disbursement.", code="already_received")
    if not consents.permits(session, row.household_id, consents.SMS):
        raise Conflict(
            "The family has not agreed to receive text messages: "
            "have them sign on screen, or photograph the signed slip.",
            code="no_sms_consent",
        )
    phone = family_messages.phone_number(
        session.scalar(select(Household.phone).where(Household.id == row.household_id))
    )
    if phone is None:
        raise Conflict(
            "The household has no mobile number on record: add it, or have the family sign on screen.",
            code="no_phone",
        )
    now = utcnow()
    latest = _latest_code(session, row.id)
    if latest is not None and latest.used_at is None and now - latest.created_at < RESEND_AFTER:
        return CodeSent(row.id, latest.expires_at, _masked(phone))
    settings = runtime.settings()
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    minutes = int(settings["RECEIPT_CODE_MINUTES"])
    sent = ReceiptCode(
        disbursement_id=row.id, code_hash=_code_hash(row.id, code), expires_at=now + timedelta(minutes=minutes)
    )
    session.add(sent)
    session.flush()
    family_messages.send_to_family(
        session,
        row.household_id,
        "family.receipt_code",
        {"minutes": minutes},
        dedupe_key=f"receipt_code:{sent.id}",
        secret={"code": code},
    )
    audit.record(
        session,
        "receipt.code_sent",
        row,
        household_id=row.household_id,
        request_id=row.request_id,
        after={"expires_at": sent.expires_at.isoformat()},
    )
    return CodeSent(row.id, sent.expires_at, _masked(phone))


def _latest_code(session: Session, disbursement_id: int) -> ReceiptCode | None:
    stmt = (
        select(ReceiptCode)
        .where(ReceiptCode.disbursement_id == disbursement_id)
        .order_by(ReceiptCode.id.desc())
        .limit(1)
        .with_for_update()
    )
    return session.execute(stmt).scalar_one_or_none()


def _check_code(session: Session, row: Disbursement, code: str) -> DomainError | None:
    """None when ``code`` is the live code of this disbursement (now used); else the
    refusal, a wrong try counted."""
    latest = _latest_code(session, row.id)
    if latest is None or latest.used_at is not None:
        return Conflict("Send the family a code first.", code="no_code_sent")
    limit = int(runtime.settings()["RECEIPT_CODE_ATTEMPTS"])
    if latest.attempts >= limit:
        return Conflict("Too many wrong codes: send the family a new one.", code="code_locked")
    if utcnow() >= latest.expires_at:
        return Invalid(
            "The code has expired: send the family a new one.", code="code_expired", details={"code": ["expired"]}
        )
    if not hmac.compare_digest(latest.code_hash, _code_hash(row.id, code)):
        latest.attempts += 1
        session.flush()
        left = max(limit - latest.attempts, 0)
        return Invalid(
            f"That is not the code sent to the family; {left} tries left.",
            code="wrong_code",
            details={"code": ["wrong code"], "attempts_left": left},
        )
    latest.used_at = utcnow()
    return None


def _keep_image(data: bytes) -> dict:
    """Keep a signature or photo under a random name; what the receipt records."""
    kept = photos.keep(FOLDER, data, field="image")
    return {"token": kept.token, "content_type": kept.content_type, "size": kept.size, "sha256": kept.sha256}


def record_receipt(
    session: Session,
    principal: Principal,
    disbursement_id: int,
    method: str,
    *,
    image: bytes | None = None,
    code: str | None = None,
) -> Outcome:
    """The family confirms a disbursement: ``signature`` or ``photo`` with ``image``,
    ``code`` with the one-time code. Once per disbursement; audited on the request's
    timeline."""
    if method not in METHODS:
        raise Invalid("Say how the family confirmed: signature, photo or code.", details={"method": ["unknown"]})
    row = _disbursement(session, principal, disbursement_id, lock=True)
    first = receipt_of(session, row.id)
    if first is not None:
        return Outcome(first, created=False)
    stored = None
    if method == "code":
        refusal = _check_code(session, row, (code or "").strip())
        if refusal is not None:
            return Outcome(None, refusal=refusal)
    else:
        stored = _keep_image(image or b"")
    receipt = Receipt(
        disbursement_id=row.id,
        household_id=row.household_id,
        request_id=row.request_id,
        method=method,
        file=stored,
        recorded_by_id=principal.user_id,
    )
    session.add(receipt)
    session.flush()
    audit.record(
        session,
        "receipt.recorded",
        receipt,
        household_id=row.household_id,
        request_id=row.request_id,
        after={
            "disbursement_id": row.id,
            "method": method,
            "sha256": stored["sha256"] if stored else None,
        },
    )
    return Outcome(receipt, created=True)


def unreceived(
    session: Session,
    principal: Principal,
    *,
    household_id: int | None = None,
    now: datetime | None = None,
    limit: int = 200,
) -> list[Unreceived]:
    """Disbursements the family has not confirmed within the partner's days, oldest
    first, in the principal's scope: a caseworker's grids, a partner's own, all for
    auditors and admins."""
    now = now or utcnow()
    stmt = (
        select(Disbursement, Partner.name, Partner.receipt_within_days)
        .join(Partner, Partner.id == Disbursement.partner_id)
        .outerjoin(Receipt, Receipt.disbursement_id == Disbursement.id)
        .where(Receipt.id.is_(None), Disbursement.created_at < now - timedelta(days=1))
        .order_by(Disbursement.created_at, Disbursement.id)
    )
    if principal.role == "partner":
        stmt = stmt.where(Disbursement.partner_id == principal.partner_id)
    elif principal.grid_scope() is not None:
        stmt = stmt.where(Disbursement.grid_id.in_(principal.grid_scope() or {-1}))
    if household_id is not None:
        stmt = stmt.where(Disbursement.household_id == household_id)
    out = []
    for row, name, days in session.execute(stmt):
        due = row.created_at + timedelta(days=days)
        if due <= now:
            out.append(Unreceived(row, name, days, due))
            if len(out) >= limit:
                break
    return out


@dataclass(frozen=True)
class Delivered:
    """A disbursement as the caseworker's pages show it, with its receipt (if any)."""

    disbursement: Disbursement
    partner_name: str
    receipt: Receipt | None
    due_at: datetime

    @property
    def overdue(self) -> bool:
        return self.receipt is None and self.due_at <= utcnow()

    @property
    def slip_code(self) -> str:
        return slip_code(self.disbursement.id)


def slip_code(disbursement_id: int) -> str:
    """The short code printed on a receipt slip, for the public concern page."""
    return f"R{disbursement_id}"


def delivered(session: Session, principal: Principal, disbursement_id: int, *, write: bool = False) -> Delivered:
    """One disbursement for its receipt page or slip (the household's caseworkers; the
    slip also for auditors); partners never."""
    require_registry(principal, write=write)
    row = found(session.get(Disbursement, disbursement_id), "disbursement")
    principal.require_grid(row.grid_id, write=write, what="disbursement")
    partner = session.get(Partner, row.partner_id)
    return Delivered(
        row, partner.name, receipt_of(session, row.id), row.created_at + timedelta(days=partner.receipt_within_days)
    )


def for_household(session: Session, principal: Principal, household_id: int) -> list[Delivered]:
    """What reached the household, newest first, each with its receipt or its due date
    (the caller has checked the household may be seen)."""
    require_registry(principal, write=False)
    stmt = (
        select(Disbursement, Partner.name, Partner.receipt_within_days, Receipt)
        .join(Partner, Partner.id == Disbursement.partner_id)
        .outerjoin(Receipt, Receipt.disbursement_id == Disbursement.id)
        .where(Disbursement.household_id == household_id)
        .order_by(Disbursement.id.desc())
    )
    return [
        Delivered(row, name, receipt, row.created_at + timedelta(days=days))
        for row, name, days, receipt in session.execute(stmt)
    ]


def sms_possible(session: Session, household_id: int) -> bool:
    """Whether a code can be sent now: the family agreed to SMS and has a mobile number."""
    phone = session.scalar(select(Household.phone).where(Household.id == household_id))
    return family_messages.phone_number(phone) is not None and consents.permits(session, household_id, consents.SMS)
