"""A request's timeline, read from the audit log: every state change of the request, its
offers and its money, with who did it and — for routing — why this partner and not
those. Nothing is kept twice: the audit log is the record.

Each amount appears once, on the event it belongs to, under ``amounts``: what was
offered (``offer.created``), accepted (``offer.accepted``), paid (``disbursement.recorded``)
and released back to a fund (``offer.completed`` / withdrawn / expired). The ledger's own
events for an offer say the same money again, so they stay in the ledger and the audit
log, not here; and a routing round that found nothing new (the same outcome and the
same partners left out as the round before) is shown once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.platform import actor
from models import AuditEvent, Partner


def actor_label(actor: str) -> str:
    """``user:7:li.wei`` → ``li.wei``; system and adapter actors stay as they are."""
    kind, _, rest = actor.partition(":")
    if kind == "user" and rest.count(":") >= 1:
        return rest.split(":", 1)[1]
    return actor


def _details(row: AuditEvent) -> dict[str, Any]:
    before = audit.loads(row.before) or {}
    after = audit.loads(row.after) or {}
    details = audit.loads(row.details) or {}
    merged: dict[str, Any] = {**after, **details}
    if "status" in before and before.get("status") != after.get("status"):
        merged["from_status"] = before["status"]
    if row.object_type == "offers":
        merged.setdefault("offer_id", row.object_id)
    return merged


def _amounts(action: str, details: dict[str, Any]) -> dict[str, int]:
    """The money an event is about, named for what it is (never the offered amount again
    on an acceptance or a payment)."""
    if action == "offer.created" and details.get("amount_fen"):
        return {"offered_fen": details["amount_fen"]}
    if action == "offer.accepted" and details.get("accepted_fen"):
        return {"accepted_fen": details["accepted_fen"]}
    if action == "disbursement.recorded" and details.get("amount_fen"):
        return {"paid_fen": details["amount_fen"]}
    if action.startswith("offer.") and details.get("released_fen"):
        return {"released_fen": details["released_fen"]}
    return {}


def _routing_key(details: dict[str, Any]) -> tuple:
    excluded = tuple((e.get("partner_id"), e.get("code") or e.get("reason")) for e in details.get("excluded") or [])
    return (details.get("outcome"), details.get("gap_fen"), excluded)


def partner_names_of_actors(session: Session, actors: list[str]) -> dict[int, str]:
    """The names of the partners whose adapters acted (``adapter:<name>:<partner id>``)."""
    ids = {int(a.rsplit(":", 1)[1]) for a in actors if a.startswith("adapter:") and a.rsplit(":", 1)[1].isdigit()}
    return dict(session.execute(select(Partner.id, Partner.name).where(Partner.id.in_(ids))).all()) if ids else {}


def events(session: Session, request_id: int) -> list[dict[str, Any]]:
    """The request's events, oldest first: ``at``, ``actor`` (a user's name or the
    process), ``actor_name`` (the same as a text code, see :func:`actor.described`),
    ``event``, ``details`` and ``amounts``."""
    rows = (
        session.execute(select(AuditEvent).where(AuditEvent.request_id == request_id).order_by(AuditEvent.id))
        .scalars()
        .all()
    )
    names = partner_names_of_actors(session, [row.actor for row in rows])
    out: list[dict[str, Any]] = []
    last_routing: tuple | None = None
    for row in rows:
        details = _details(row)
        if row.action.startswith("ledger.") and details.get("offer_id"):
            continue  # the offer's own event carries this money
        if row.action == "request.routed":
            key = _routing_key(details)
            if not details.get("chosen") and key == last_routing:
                continue
            last_routing = key
        out.append(
            {
                "at": row.at,
                "actor": actor_label(row.actor),
                "actor_name": actor.described(row.actor, names),
                "event": row.action,
                "details": details,
                "amounts": _amounts(row.action, details),
            }
        )
    return out
