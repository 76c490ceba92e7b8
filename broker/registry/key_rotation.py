"""Rotating ``DATA_KEY`` without downtime: every ID number re-encrypted, and its keyed
hash recomputed, under the new key, a batch at a time.

The operator puts the new key in ``DATA_KEY`` and the old one in ``DATA_KEYS_OLD`` and
restarts the web and the workers: from then on every new write uses the new key and
every read accepts both (:mod:`broker.platform.security`). :func:`rotate` then walks the
members in id order, then the volunteers (whose ID numbers are kept the same way); each
batch is its own short transaction (the ``commit`` it is given), so the registry stays
writable throughout, and a row already under the new key is left as it is — a rotation
interrupted or run twice simply goes on. When :func:`remaining` is zero, the old key can
be taken out of ``DATA_KEYS_OLD``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker import audit
from broker.platform import security
from models import Member, Volunteer

BATCH = 500
# Every table that keeps an ID number encrypted, with its keyed hash.
HOLDERS: tuple[type, ...] = (Member, Volunteer)


@dataclass
class Rotation:
    """What one run did: members re-encrypted, members already under the new key, and
    how many are still under an old key afterwards (0: the old key may go)."""

    rotated: int = 0
    current: int = 0
    remaining: int = 0

    @property
    def done(self) -> bool:
        return self.remaining == 0


def _stale(member: Member | Volunteer) -> str | None:
    """The member's ID number if it is not yet under the current key (or its hash is not)."""
    number = security.decrypt(member.id_number_enc)
    if security.under_current_key(member.id_number_enc) and member.id_hash == security.keyed_hash(number):
        return None
    return number


def total(session: Session) -> int:
    """Members and volunteers with an ID number: the work a rotation walks through."""
    return sum(
        session.scalar(select(func.count()).select_from(model).where(model.id_number_enc.is_not(None))) or 0
        for model in HOLDERS
    )


def rotate_batch(
    session: Session, after_id: int, size: int = BATCH, model: type = Member
) -> tuple[int | None, Rotation]:
    """Re-encrypt and rehash the next ``size`` rows of ``model`` after ``after_id``; flushes.
    Returns the last id seen (None when there were none) and what was done."""
    members = list(
        session.execute(
            select(model)
            .where(model.id_number_enc.is_not(None), model.id > after_id)
            .order_by(model.id)
            .limit(size)
            .with_for_update()
        ).scalars()
    )
    done = Rotation()
    for member in members:
        number = _stale(member)
        if number is None:
            done.current += 1
            continue
        member.id_number_enc = security.encrypt(number)
        member.id_hash = security.keyed_hash(number)
        done.rotated += 1
    session.flush()
    return (members[-1].id if members else None), done


def remaining(session: Session) -> int:
    """Members and volunteers whose ID number or hash is still under an old key."""
    count = 0
    for model in HOLDERS:
        after = 0
        while True:
            stmt = select(model).where(model.id_number_enc.is_not(None), model.id > after)
            batch = list(session.execute(stmt.order_by(model.id).limit(BATCH)).scalars())
            if not batch:
                break
            count += sum(1 for m in batch if _stale(m) is not None)
            after = batch[-1].id
    return count


def rotate(
    session: Session,
    commit: Callable[[], None],
    *,
    batch: int = BATCH,
    progress: Callable[[int], None] = lambda _n: None,
) -> Rotation:
    """Rotate every member's ID number to the current key, committing after each batch;
    the run is recorded on the audit chain (counts only)."""
    result = Rotation()
    for model in HOLDERS:
        after = 0
        while True:
            last, done = rotate_batch(session, after, batch, model)
            commit()
            if last is None:
                break
            result.rotated += done.rotated
            result.current += done.current
            progress(done.rotated + done.current)
            after = last
    result.remaining = remaining(session)
    audit.record(
        session,
        "keys.rotated",
        object_type="data_key",
        details={"rotated": result.rotated, "current": result.current, "remaining": result.remaining},
    )
    commit()
    return result
