"""The family's voice: a concern or complaint raised by anyone — on the public page,
without an account — or recorded by a caseworker from the hotline.

Each concern gets a public reference the person looks it up by (the status page shows
the reference, the state and the dates, nothing else), an owner who answers it, a
response deadline per kind (``CONCERN_RESPONSE_DAYS``), escalation to the auditors when
the deadline passes (:mod:`.concern_deadlines`), and a closing answer.

Who owns it: always a caseworker — the one who answers to the family. A concern raised
from a public notice's code goes to the caseworker who posted the notice; one naming a
community to a caseworker holding a grid there; one recorded from the hotline to the
caseworker who took the call (or the household's grid's caseworker). A concern about a
partner stays with the caseworker, who takes it up with the partner: the partner reads
it (its own only) with identity and phone numbers removed, never the caller's phone.
A public concern that names nothing waits for an admin to assign it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from broker import audit
from broker.platform import outbox, runtime, security
from broker.platform.errors import Forbidden, Invalid, InvalidTransition, NotFound
from broker.platform.input_schema import text_problem
from broker.platform.pages import Page, paginate
from broker.platform.scope import Principal
from broker.platform.texts import N_, define
from broker.registry import grids
from models import Concern, Grid, Household, Notice, Partner, User, UserGrid
from models.base import utcnow
from models.concerns import CONCERN_KINDS

KINDS = CONCERN_KINDS
STATES = ("open", "escalated", "closed")
OPEN_STATES = ("open", "escalated")
# Working days are not counted: a deadline is this many calendar days after the concern.
DEFAULT_RESPONSE_DAYS = {"complaint": 5, "not_received": 3, "wrong_information": 7, "objection": 5, "other": 10}
ESCALATE_KIND = "escalate_concern"
DESCRIPTION_MAX = 2000
ANSWER_MAX = 2000
REF_CODE_MAX = 40
COMMUNITY_MAX = 80
# Crockford's base32 without I, L, O, U: read aloud over the phone without confusion.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,22}[0-9]$")
PHONE_PATTERN_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d(?:[ \-]?\d){8}(?!\d)")
PHONE_PLACEHOLDER = "[phone number removed]"

define(
    {
        "concern_kind.complaint": N_("Complaint"),
        "concern_kind.not_received": N_("Help not received"),
        "concern_kind.wrong_information": N_("Wrong information"),
        "concern_kind.objection": N_("Objection to a public notice"),
        "concern_kind.other": N_("Other"),
        "concern_state.open": N_("Received, being handled"),
        "concern_state.escalated": N_("Past its deadline, passed to the auditor"),
        "concern_state.closed": N_("Answered and closed"),
        "concern_source.public": N_("Public page"),
        "concern_source.hotline": N_("Hotline"),
        "privacy.phone_removed": N_("[phone number removed]"),
    }
)


@dataclass(frozen=True)
class Filed:
    """A concern as filed: ``created`` is False when the same form was sent again."""

    concern: Concern
    created: bool


def response_days(kind: str) -> int:
    """Days to answer a concern of ``kind`` (the setting ``CONCERN_RESPONSE_DAYS`` overrides)."""
    configured = runtime.settings().get("CONCERN_RESPONSE_DAYS") or {}
    return int(configured.get(kind, DEFAULT_RESPONSE_DAYS[kind]))


def new_reference() -> str:
    """``YJ-XXXX-XXXX`` (意见): 40 random bits, so that references cannot be guessed in turn."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"YJ-{chars[:4]}-{chars[4:]}"


def normalise_reference(value: str) -> str:
    """A reference as typed (lower case, spaces, no dashes, O for 0) in its stored form."""
    raw = re.sub(r"[\s\-]", "", (value or "")[:40]).upper().replace("O", "0").replace("I", "1").replace("L", "1")
    if raw.startswith("YJ"):
        raw = raw[2:]
    if len(raw) != 8 or any(c not in _ALPHABET for c in raw):
        return ""
    return f"YJ-{raw[:4]}-{raw[4:]}"


def _text(field: str, value: str | None, limit: int, *, required: bool = False) -> str:
    """Free text from outside, checked: no lone surrogates or control characters, bounded."""
    value = (value or "").strip()
    problem = text_problem(value)
    if problem:
        raise Invalid(f"The {field} {problem}.", details={field: [problem]})
    if required and not value:
        raise Invalid(f"Fill in the {field}.", details={field: ["required"]})
    if len(value) > limit:
        raise Invalid(f"The {field} has at most {limit} characters.", details={field: [f"at most {limit} characters"]})
    return value


def _phone(value: str | None) -> str:
    value = _text("contact_phone", value, 30)
    if value and not _PHONE.match(value):
        raise Invalid(
            "Give a phone number in digits (spaces and dashes are fine), or leave it empty.",
            code="not_a_phone",
            details={"contact_phone": ["not a phone number"]},
        )
    return value


def _owner_of_community(session: Session, community: str) -> tuple[int | None, int | None]:
    """The first active caseworker (by username) holding a grid in ``community``, and that grid."""
    if not community:
        return None, None
    row = session.execute(
        select(User.id, UserGrid.grid_id)
        .join(UserGrid, UserGrid.user_id == User.id)
        .join(Grid, Grid.id == UserGrid.grid_id)
        .where(Grid.community == community, User.role == "caseworker", User.is_active.is_(True))
        .order_by(User.username)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def file_concern(
    session: Session,
    *,
    kind: str,
    description: str,
    contact_phone: str | None = None,
    ref_code: str | None = None,
    community: str | None = None,
    principal: Principal | None = None,
    household_id: int | None = None,
    partner_id: int | None = None,
    client_key: str | None = None,
    now: datetime | None = None,
) -> Filed:
    """File a concern: from the public page (``principal`` None) or recorded from the
    hotline by a caseworker or an admin. The same ``client_key`` again returns the first
    concern unchanged. Schedules the escalation at the deadline."""
    if principal is not None:
        principal.require("caseworker", "admin")
    elif household_id is not None or partner_id is not None:
        raise Forbidden("Only a caseworker names the household or the partner a concern is about.")
    if kind not in KINDS:
        raise Invalid(f"Choose a kind: {', '.join(KINDS)}.", details={"kind": ["unknown kind"]})
    client_key = _text("client_key", client_key, 64) or None
    if client_key:
        first = session.execute(select(Concern).where(Concern.client_key == client_key)).scalar_one_or_none()
        if first is not None:
            return Filed(first, False)
    description = _text("description", description, DESCRIPTION_MAX, required=True)
    phone = _phone(contact_phone)
    ref_code = _text("ref", ref_code, REF_CODE_MAX)
    community = _text("community", community, COMMUNITY_MAX)
    now = now or utcnow()
    concern = Concern(
        reference=new_reference(),
        kind=kind,
        state="open",
        source="public" if principal is None else "hotline",
        description=description,
        contact_phone_enc=security.encrypt(phone) if phone else None,
        ref_code=ref_code,
        community=community,
        partner_id=None,
        client_key=client_key,
        recorded_by_id=principal.user_id if principal else None,
        deadline_at=now + timedelta(days=response_days(kind)),
    )
    concern.created_at = now
    notice = _notice_of(session, ref_code)
    if notice is not None:
        concern.notice_id, concern.community = notice.id, notice.community
        concern.owner_id = notice.created_by_id
    if household_id is not None:
        household = session.get(Household, household_id)
        if household is None:
            raise NotFound("No such household.")
        principal.require_grid(household.grid_id, write=True)
        concern.household_id, concern.grid_id = household.id, household.grid_id
        concern.community = concern.community or session.get(Grid, household.grid_id).community
    if partner_id is not None:
        if session.get(Partner, partner_id) is None:
            raise Invalid("No such partner.", details={"partner": ["no such partner"]})
        concern.partner_id = partner_id
    if concern.owner_id is None and principal is not None and principal.role == "caseworker":
        concern.owner_id = principal.user_id
    if concern.owner_id is None and concern.grid_id is not None:
        concern.owner_id = next(iter(grids.caseworker_ids(session, concern.grid_id)), None)
    if concern.owner_id is None:
        concern.owner_id, grid_id = _owner_of_community(session, concern.community)
        concern.grid_id = concern.grid_id or grid_id
    session.add(concern)
    session.flush()
    outbox.add(session, ESCALATE_KIND, {"concern_id": concern.id}, due_at=concern.deadline_at)
    audit.record(
        session,
        "concern.filed",
        concern,
        household_id=concern.household_id,
        after={
            "reference": concern.reference,
            "kind": kind,
            "source": concern.source,
            "owner_id": concern.owner_id,
            "notice_id": concern.notice_id,
            "partner_id": concern.partner_id,
            "deadline_at": concern.deadline_at.isoformat(),
        },
    )
    return Filed(concern, True)


def _notice_of(session: Session, ref_code: str) -> Notice | None:
    code = re.sub(r"[\s\-]", "", ref_code or "").upper()
    if not code:
        return None
    return session.execute(select(Notice).where(Notice.code == code)).scalar_one_or_none()


def public_status(session: Session, reference: str) -> dict[str, Any]:
    """What anyone may learn of a concern from its reference: the state and the dates."""
    concern = _by_reference(session, reference)
    return {
        "reference": concern.reference,
        "state": concern.state,
        "received_at": concern.created_at,
        "deadline_at": concern.deadline_at,
        "closed_at": concern.closed_at,
    }


def _by_reference(session: Session, reference: str, *, lock: bool = False) -> Concern:
    ref = normalise_reference(reference)
    stmt = select(Concern).where(Concern.reference == ref)
    if lock:
        stmt = stmt.with_for_update()
    concern = session.execute(stmt).scalar_one_or_none() if ref else None
    if concern is None:
        raise NotFound("No concern has this reference. Check it against the slip or message you were given.")
    return concern


def _scope(principal: Principal) -> Any:
    """The concerns a principal may read, as a filter (None: all)."""
    if principal.role in ("admin", "auditor") and not principal.scoped:
        return None
    if principal.role == "partner":
        return Concern.partner_id == principal.partner_id
    communities = select(Grid.community).where(Grid.id.in_(principal.grid_ids))
    return or_(
        Concern.owner_id == principal.user_id,
        Concern.grid_id.in_(principal.grid_ids),
        Concern.grid_id.is_(None) & Concern.community.in_(communities),
    )


def list_concerns(
    session: Session,
    principal: Principal,
    *,
    state: str | None = None,
    kind: str | None = None,
    overdue: bool | None = None,
    page: int = 1,
    per_page: int = 50,
    now: datetime | None = None,
) -> Page:
    """The concerns in the principal's scope: open ones first, the nearest deadline first."""
    stmt = select(Concern)
    where = _scope(principal)
    if where is not None:
        stmt = stmt.where(where)
    if state:
        stmt = stmt.where(Concern.state == state)
    if kind:
        stmt = stmt.where(Concern.kind == kind)
    if overdue is not None:
        late = (Concern.state.in_(OPEN_STATES)) & (Concern.deadline_at <= (now or utcnow()))
        stmt = stmt.where(late if overdue else ~late)
    stmt = stmt.order_by((Concern.state == "closed"), Concern.deadline_at, Concern.id)
    return paginate(session, stmt, page, per_page)


def get_concern(session: Session, principal: Principal, reference: str, *, lock: bool = False) -> Concern:
    """One concern in the principal's scope (out of scope reads as not found)."""
    concern = _by_reference(session, reference, lock=lock)
    where = _scope(principal)
    if where is not None:
        visible = session.execute(select(Concern.id).where(Concern.id == concern.id, where)).first()
        if visible is None:
            raise NotFound("No such concern.")
    return concern


def _may_act(principal: Principal, concern: Concern) -> None:
    if principal.role == "admin":
        return
    if principal.role != "caseworker":
        raise Forbidden("Caseworkers and admins answer concerns; auditors and partners read them.")


def assign(session: Session, principal: Principal, reference: str, owner_id: int) -> Concern:
    """Give the concern to an active caseworker (the same owner again changes nothing)."""
    concern = get_concern(session, principal, reference, lock=True)
    _may_act(principal, concern)
    if concern.state == "closed":
        raise InvalidTransition("concern", concern.state, "assign")
    owner = session.get(User, owner_id)
    if owner is None or owner.role != "caseworker" or not owner.is_active:
        raise Invalid("Choose an active caseworker.", code="not_a_caseworker", details={"owner": ["not a caseworker"]})
    if concern.owner_id == owner.id:
        return concern
    before = concern.owner_id
    concern.owner_id = owner.id
    session.flush()
    audit.record(
        session,
        "concern.assigned",
        concern,
        household_id=concern.household_id,
        before={"owner_id": before},
        after={"owner_id": owner.id},
    )
    return concern


def answer(session: Session, principal: Principal, reference: str, text: str, now: datetime | None = None) -> Concern:
    """Close the concern with its answer. The same answer again (a form sent twice)
    changes nothing; another answer to a closed concern is a 409."""
    concern = get_concern(session, principal, reference, lock=True)
    _may_act(principal, concern)
    text = _text("answer", text, ANSWER_MAX, required=True)
    if concern.state == "closed":
        if concern.answer == text:
            return concern
        raise InvalidTransition("concern", concern.state, "answer")
    before = concern.state
    concern.state, concern.answer = "closed", text
    concern.closed_at, concern.closed_by_id = now or utcnow(), principal.user_id
    session.flush()
    audit.record(
        session,
        "concern.closed",
        concern,
        household_id=concern.household_id,
        before={"state": before},
        after={
            "state": "closed",
            "closed_at": concern.closed_at.isoformat(),
            "within_deadline": concern.closed_at <= concern.deadline_at,
        },
    )
    return concern


def communities(session: Session) -> list[str]:
    """Every community with a grid: what the public page offers to choose from."""
    return [c for c in session.execute(select(Grid.community).distinct().order_by(Grid.community)).scalars() if c]


def partner_names(session: Session) -> list[tuple[int, str]]:
    """The active partners, for naming the one a hotline concern is about."""
    rows = session.execute(select(Partner.id, Partner.name).where(Partner.active.is_(True)).order_by(Partner.name))
    return [(pid, name) for pid, name in rows.all()]
