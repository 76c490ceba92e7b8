"""Notifications to caseworkers: a request no partner could take comes back to the
people who answer for the household — the caseworkers of its grid and whoever
created the request — so that no household is left waiting unseen."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.registry import grids
from models import AidRequest, Notification


def _notify(session: Session, req: AidRequest, kind: str, message: str, data: dict) -> list[int]:
    """One notification per recipient; a repeat of the same event is not sent twice."""
    dedupe_key = f"{kind}:{req.id}"
    recipients = grids.caseworker_ids(session, req.grid_id, plus=req.created_by_id)
    already = set(
        session.execute(
            select(Notification.user_id).where(
                Notification.dedupe_key == dedupe_key, Notification.user_id.in_(recipients)
            )
        ).scalars()
    )
    sent = [uid for uid in recipients if uid not in already]
    for uid in sent:
        session.add(Notification(user_id=uid, kind=kind, message=message, data=data, dedupe_key=dedupe_key))
    session.flush()
    return sent


def request_failed(session: Session, req: AidRequest, reasons: list[str]) -> list[int]:
    """Tell the caseworkers that no partner could take a request, and why. Returns the
    users notified."""
    message = (
        f"No partner could take request #{req.id} ({req.category}, {req.urgency}). "
        f"Reasons: {'; '.join(reasons) or 'no partner is set up'}. "
        "Consider a policy application, another partner, or a new assessment."
    )
    return _notify(session, req, "request_failed", message, {"request_id": req.id, "reasons": reasons})


def request_short(session: Session, req: AidRequest, uncovered_fen: int, reasons: list[str]) -> list[int]:
    """Tell the caseworkers that a request is only partly covered and no partner is left
    to ask for the rest; they may complete it as it is, or find more help."""
    message = (
        f"Request #{req.id} ({req.category}) is short by {uncovered_fen / 100:,.2f} yuan and no other partner "
        f"can take the rest. Reasons: {'; '.join(reasons) or 'none'}. Complete it as it is, or find more help."
    )
    return _notify(
        session,
        req,
        "request_short",
        message,
        {"request_id": req.id, "uncovered_fen": uncovered_fen, "reasons": reasons},
    )
