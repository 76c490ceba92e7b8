"""What a transaction queues for its commit — audit events, outbox rows — kept in lists
in ``session.info`` and written just before the commit, in one statement per table.

A savepoint that rolls back takes back what was queued inside it, as it takes back its
rows: a step that failed leaves no audit event of a change that never happened and no
job for it. A transaction that rolls back takes back everything it queued."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

KEYS = ("audit", "outbox")
# What the outermost commit wrote, for the after-commit hooks (the relay, the bells to
# ring); forgotten if that commit fails.
WRITTEN_KEYS = ("audit_written", "outbox_written", "bells_pending")
_MARKS = "pending_marks"


def queue(session: Session, key: str, item: Any) -> None:
    """Queue ``item`` under ``key`` (one of :data:`KEYS`) for this transaction's commit."""
    session.info.setdefault(key, []).append(item)


def take(session: Session, key: str) -> list[Any]:
    """What is queued under ``key``, removed from the queue (to be written now)."""
    return session.info.pop(key, [])


@event.listens_for(Session, "after_transaction_create")
def _mark(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        session.info.setdefault(_MARKS, {})[transaction] = {key: len(session.info.get(key, [])) for key in KEYS}


@event.listens_for(Session, "after_soft_rollback")
def _take_back(session: Session, previous_transaction: SessionTransaction) -> None:
    if not previous_transaction.nested:
        for key in KEYS + WRITTEN_KEYS:
            session.info.pop(key, None)
        return
    marks = session.info.get(_MARKS, {}).pop(previous_transaction, None)
    for key, mark in (marks or {}).items():
        del session.info.get(key, [])[mark:]


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    # (A savepoint's mark is still wanted here: SQLAlchemy ends a savepoint before it
    # reports its rollback. The outermost transaction's end forgets them all.)
    if not transaction.nested:
        session.info.pop(_MARKS, None)
