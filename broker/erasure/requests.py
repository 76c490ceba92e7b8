"""An erasure asked for by an admin, approved by an auditor (another person), then run:
the subject masked in every table, file and kept export, the ledger's amounts and the
audit chain untouched, and the erasure itself recorded on the chain by id. Running an
erasure again finds nothing left to change."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.erasure import scrub
from broker.erasure.subjects import subject_of
from broker.platform.errors import Conflict, Forbidden, Invalid, NotFound
from broker.platform.texts import N_, define
from models import Erasure, Member, User
from models.base import utcnow

KINDS = ("files", "messages", "personal")  # what an erasure may cover; a request covers all
REASON_MAX = 500

define(
    {
        "erasure.not_admin": N_("Only an admin may ask for an erasure."),
        "erasure.not_auditor": N_("Only an auditor may approve an erasure."),
        "erasure.same_person": N_("The erasure must be approved by someone other than the admin who asked for it."),
        "erasure.not_requested": N_("This erasure is %(status)s, not waiting for approval."),
    }
)


def _clean_reason(reason: str) -> str:
    """The reason as given, without control characters or lone surrogates; never empty."""
    text = "".join(ch for ch in (reason or "") if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF).strip()
    if not text:
        raise Invalid("Give the reason for the erasure.", details={"reason": ["required"]}, code="reason_required")
    if len(text) > REASON_MAX:
        raise Invalid(f"The reason is longer than {REASON_MAX} characters.", details={"reason": ["too long"]})
    return text


def request_erasure(
    session: Session,
    by: User,
    reason: str,
    *,
    member_id: int | None = None,
    household_id: int | None = None,
) -> Erasure:
    """An admin asks for one member's or one household's data to be erased."""
    if by.role != "admin":
        raise Forbidden("Only an admin may ask for an erasure.", code="erasure.not_admin")
    if (member_id is None) == (household_id is None):
        raise Invalid("Name either a member or a household.", details={"member": ["member or household"]})
    text = _clean_reason(reason)
    if member_id is not None:
        member = session.get(Member, member_id)
        if member is None:
            raise NotFound(f"Member {member_id} not found.", code="member_not_found")
        household_id = member.household_id
    else:
        subject_of(session, household_id=household_id)  # the household exists
    erasure = Erasure(
        scope="member" if member_id is not None else "household",
        household_id=household_id,
        member_id=member_id,
        kinds=list(KINDS),
        origin="request",
        reason=text,
        status="requested",
        requested_by_id=by.id,
        report={},
    )
    session.add(erasure)
    session.flush()
    audit.record(
        session,
        "erasure.requested",
        erasure,
        household_id=household_id,
        after={"scope": erasure.scope, "member_id": member_id},
        details={"reason": text},
    )
    return erasure


def approve_erasure(session: Session, erasure_id: int, by: User) -> Erasure:
    """An auditor, not the admin who asked, approves a requested erasure."""
    erasure = _get(session, erasure_id)
    if by.role != "auditor":
        raise Forbidden("Only an auditor may approve an erasure.", code="erasure.not_auditor")
    if by.id == erasure.requested_by_id:
        raise Forbidden("The erasure must be approved by someone other than the admin who asked.")
    if erasure.status != "requested":
        raise Conflict(f"This erasure is {erasure.status}, not waiting for approval.", code="erasure.not_requested")
    erasure.status, erasure.approved_by_id, erasure.approved_at = "approved", by.id, utcnow()
    audit.record(session, "erasure.approved", erasure, household_id=erasure.household_id, after={"status": "approved"})
    return erasure


def run_erasure(session: Session, erasure_id: int, progress: Callable[[str], None] | None = None) -> Erasure:
    """Carry out an approved erasure (again, for one already done: safe, it finds
    nothing more). Records ``erasure.done`` on the chain with the counts, by id."""
    erasure = _get(session, erasure_id)
    if erasure.status not in ("approved", "done"):
        raise Conflict(f"This erasure is {erasure.status}: it needs an auditor's approval first.", code="not_approved")
    subject = subject_of(session, household_id=erasure.household_id, member_id=erasure.member_id)
    kinds = set(erasure.kinds or KINDS)
    counts: Counter = Counter()
    if "files" in kinds:
        counts += scrub.remove_files(session, subject)
    if "personal" in kinds:
        counts += scrub.scrub_tables(session, subject, erasure.id, progress=progress)
        counts += scrub.scrub_exports(subject)
        counts += scrub.mask_registry(session, subject, whole_household=erasure.scope == "household")
    elif "messages" in kinds:
        counts += scrub.scrub_tables(session, subject, erasure.id, tables=scrub.MESSAGE_TABLES, progress=progress)
    report = dict(sorted((erasure.report or {}).items()))
    for key, n in counts.items():
        report[key] = report.get(key, 0) + n
    erasure.report = report
    first = erasure.status != "done"
    erasure.status, erasure.done_at = "done", utcnow()
    session.flush()
    audit.record(
        session,
        "erasure.done" if first else "erasure.rerun",
        erasure,
        household_id=erasure.household_id,
        after={"scope": erasure.scope, "member_id": erasure.member_id, "kinds": sorted(kinds), "counts": dict(counts)},
    )
    return erasure


def _get(session: Session, erasure_id: int) -> Erasure:
    erasure = session.get(Erasure, erasure_id)
    if erasure is None:
        raise NotFound(f"Erasure {erasure_id} not found.", code="erasure_not_found")
    return erasure


def erasures(session: Session, household_id: int | None = None) -> list[Erasure]:
    """Erasures, newest first (one household's, if given)."""
    stmt = select(Erasure).order_by(Erasure.id.desc())
    if household_id is not None:
        stmt = stmt.where(Erasure.household_id == household_id)
    return list(session.execute(stmt).scalars())
