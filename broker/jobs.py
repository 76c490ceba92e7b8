"""RQ job entry points. Each is a thin call into the domain by id and safe to run twice."""

from __future__ import annotations

from broker import actor, db, outbox, runtime


def run_outbox(msg_id: int) -> str:
    """Carry out one outbox row (see :func:`broker.outbox.run`)."""
    runtime.ensure()
    actor.set_actor("system")
    try:
        return outbox.run(db.session(), msg_id)
    finally:
        db.session.remove()


def relay_outbox() -> int:
    """Periodic: move due outbox rows onto RQ (drains the backlog after a Redis outage)."""
    runtime.ensure()
    try:
        return outbox.relay(db.session(), runtime.settings()["RELAY_BATCH"])
    finally:
        db.session.remove()


def noop(n: int = 0) -> int:
    """A job that does nothing: the baseline for benchmarks and the health round trip."""
    return n
