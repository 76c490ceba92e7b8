"""What a partner records on an offer depends on what the need asks for: money is paid
out (and only money moves in the ledger), a service is given in sessions (the day, how
long, who delivered it), goods are handed over as items and quantities. The rules here
are the domain's own, for every caller (the API's schemas apply the same ones first).

A partner's voucher numbers are unique: a receipt recorded a second time — a form sent
twice over a slow connection, a retry without an idempotency key — is refused, naming
the disbursement that already carries it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.platform import periods
from broker.platform.errors import Conflict, Invalid
from models import Disbursement
from models.base import utcnow

# The disbursement kind recorded on each kind of need.
RECORDED_AS = {"money": "cash", "service": "service", "in_kind": "in_kind"}
DISBURSEMENT_KINDS = ("cash", "in_kind", "service")
MAX_SESSION_MINUTES = 24 * 60
MAX_ITEMS = 50
MAX_QUANTITY = Decimal(1_000_000)
NAME_MAX = 80
UNIT_MAX = 20
DELIVERED_BY_MAX = 120
NOTES_MAX = 2000
REFERENCE_MAX = 120


@dataclass(frozen=True)
class Delivery:
    """One record of what reached the family: ``cash`` (``amount_fen``), a ``service``
    session (``session_date``, ``minutes``, ``delivered_by``, ``notes``) or goods
    (``in_kind``: ``items``)."""

    kind: str
    amount_fen: int = 0
    reference: str = ""
    session_date: date | None = None
    minutes: int | None = None
    delivered_by: str = ""
    notes: str = ""
    items: list[dict[str, Any]] = field(default_factory=list)

    def fields(self) -> dict[str, Any]:
        """The columns of the :class:`~models.Disbursement` row (and its audit record)."""
        if self.kind == "service":
            return {
                "session_date": self.session_date,
                "minutes": self.minutes,
                "delivered_by": self.delivered_by,
                "notes": self.notes,
            }
        if self.kind == "in_kind":
            return {"items": self.items, "notes": self.notes}
        return {}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def quantity(value: Any) -> int | float:
    """A positive quantity with at most three decimals, as a JSON number."""
    try:
        number = Decimal(str(value)) if not isinstance(value, bool) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or not 0 < number <= MAX_QUANTITY:
        raise ValueError(f"must be a number above 0 and at most {MAX_QUANTITY}")
    if number != number.quantize(Decimal("0.001")):
        raise ValueError("at most three decimals")
    return int(number) if number == number.to_integral_value() else float(number)


def _items(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list | tuple) or not raw:
        raise Invalid("Name the goods handed over: at least one item.", details={"items": ["at least one item"]})
    if len(raw) > MAX_ITEMS:
        raise Invalid(f"At most {MAX_ITEMS} items per record.", details={"items": [f"at most {MAX_ITEMS}"]})
    items, errors = [], {}
    for i, item in enumerate(raw):
        item = item if isinstance(item, dict) else {}
        name, unit = _text(item.get("name")), _text(item.get("unit"))
        if not 0 < len(name) <= NAME_MAX:
            errors[f"items.{i}.name"] = [f"1 to {NAME_MAX} characters"]
        if not 0 < len(unit) <= UNIT_MAX:
            errors[f"items.{i}.unit"] = [f"1 to {UNIT_MAX} characters, e.g. 袋, kg, 件"]
        try:
            amount = quantity(item.get("quantity"))
        except ValueError as exc:
            errors[f"items.{i}.quantity"] = [str(exc)]
            amount = 0
        items.append({"name": name, "quantity": amount, "unit": unit})
    if errors:
        raise Invalid("Each item needs a name, a quantity above zero and a unit.", details=errors)
    return items


def delivery(
    need: str,
    *,
    kind: str | None = None,
    amount_fen: int | None = None,
    reference: str = "",
    session_date: date | None = None,
    minutes: int | None = None,
    delivered_by: str = "",
    notes: str = "",
    items: Any = None,
) -> Delivery:
    """Check what was sent against what a ``need`` of this kind records, and return it
    as a :class:`Delivery`. A money offer records money, a service offer sessions, an
    in-kind offer goods; anything else is refused, saying what this offer takes."""
    expected = RECORDED_AS[need]
    if kind is not None and kind != expected:
        raise Invalid(
            f"This offer is for {need.replace('_', '-')} help: record it as “{expected}”, not “{kind}”.",
            code="wrong_disbursement_kind",
            details={"kind": [f"must be {expected} for this offer"], "expected": expected},
        )
    reference = _text(reference)
    if len(reference) > REFERENCE_MAX:
        raise Invalid("The reference is too long.", details={"reference": [f"at most {REFERENCE_MAX} characters"]})
    notes = _text(notes)
    if len(notes) > NOTES_MAX:
        raise Invalid("The notes are too long.", details={"notes": [f"at most {NOTES_MAX} characters"]})
    stray = _stray(
        expected,
        amount_fen=amount_fen,
        session_date=session_date,
        minutes=minutes,
        delivered_by=delivered_by,
        items=items,
    )
    if stray:
        raise Invalid(
            f"This offer records {_what(expected)}; {', '.join(stray)} do not belong here.",
            code="wrong_disbursement_kind",
            details={**{name: ["not for this offer"] for name in stray}, "expected": expected},
        )
    if expected == "cash":
        if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
            raise Invalid("A cash disbursement needs a positive amount.", details={"amount_fen": ["must be > 0"]})
        return Delivery("cash", amount_fen=amount_fen, reference=reference)
    if expected == "service":
        return Delivery(
            "service",
            reference=reference,
            notes=notes,
            **_session(session_date, minutes, delivered_by),
        )
    return Delivery("in_kind", reference=reference, notes=notes, items=_items(items))


def _stray(expected: str, **sent: Any) -> list[str]:
    allowed = {"cash": {"amount_fen"}, "service": {"session_date", "minutes", "delivered_by"}, "in_kind": {"items"}}
    names = {"session_date": "date", "minutes": "hours"}
    return [
        names.get(name, name)
        for name, value in sent.items()
        if name not in allowed[expected] and value not in (None, "", [], 0)
    ]


def _what(kind: str) -> str:
    return {"cash": "money paid out", "service": "service sessions", "in_kind": "goods handed over"}[kind]


def _session(session_date: date | None, minutes: int | None, delivered_by: str) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    today = periods.to_local(utcnow()).date()
    if not isinstance(session_date, date):
        errors["date"] = ["the day of the session, YYYY-MM-DD"]
    elif session_date > today + timedelta(days=1):
        errors["date"] = ["must not be in the future"]
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 < minutes <= MAX_SESSION_MINUTES:
        errors["hours"] = ["more than 0 and at most 24 hours"]
    who = _text(delivered_by)
    if not 0 < len(who) <= DELIVERED_BY_MAX:
        errors["delivered_by"] = [f"who gave the session, 1 to {DELIVERED_BY_MAX} characters"]
    if errors:
        raise Invalid("A session needs its date, its length in hours and who delivered it.", details=errors)
    return {"session_date": session_date, "minutes": minutes, "delivered_by": who}


def first_with_reference(session: Session, partner_id: int, reference: str) -> Disbursement | None:
    """The partner's disbursement already carrying this voucher number, if any."""
    if not reference:
        return None
    return session.execute(
        select(Disbursement).where(Disbursement.partner_id == partner_id, Disbursement.reference == reference)
    ).scalar_one_or_none()


def duplicate_reference(first: Disbursement) -> Conflict:
    """The refusal of a voucher number the partner has already recorded."""
    return Conflict(
        f"Reference “{first.reference}” is already recorded on disbursement {first.id} "
        f"(offer {first.offer_id}, {first.created_at:%Y-%m-%d}); a voucher is recorded once.",
        code="duplicate_reference",
        details={
            "reference": first.reference,
            "disbursement_id": first.id,
            "offer_id": first.offer_id,
            "recorded_at": first.created_at.isoformat(),
        },
    )
