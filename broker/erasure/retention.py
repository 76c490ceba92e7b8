"""Retention: once a household has left the registry (moved out, deceased, recovered:
``Household.state_since``), each kind of record about it is kept for a period of its own
(setting ``RETENTION_DAYS``, days per kind), then erased by the retention job. Each
household's erasure of the kinds now due is an :class:`~models.Erasure` of origin
``retention`` (approved by the settings); each run records one ``retention.applied``
event with what it did, which the auditor reads in the trail. A kind erased once is not
erased again, so running the job twice changes nothing the second time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.erasure.requests import run_erasure
from broker.platform import runtime
from models import Erasure, Household
from models.base import utcnow

# Days kept after leaving, per kind: uploaded files (documents, evidence photos); messages
# about the family (notifications, queued work, stored replies); all other personal data
# (registry, free text, audit details, kept exports).
DEFAULT_DAYS = {"files": 365, "messages": 180, "personal": 1825}


def periods() -> dict[str, int]:
    """The retention periods in force: the defaults, overridden by ``RETENTION_DAYS``."""
    configured = runtime.settings().get("RETENTION_DAYS") or {}
    unknown = set(configured) - set(DEFAULT_DAYS)
    if unknown:
        raise ValueError(f"RETENTION_DAYS names unknown record kinds: {sorted(unknown)}")
    return {**DEFAULT_DAYS, **{k: int(v) for k, v in configured.items()}}


@dataclass
class RetentionReport:
    """What one run erased: per household, the kinds and the counts."""

    households: list[dict] = field(default_factory=list)

    @property
    def erased(self) -> int:
        return len(self.households)

    def lines(self) -> list[str]:
        if not self.households:
            return ["retention: nothing past its period"]
        out = [f"retention: {self.erased} household(s) erased"]
        for h in self.households:
            counts = ", ".join(f"{k} {v}" for k, v in sorted(h["counts"].items())) or "nothing left to change"
            out.append(f"  household {h['household_id']}: {'+'.join(h['kinds'])} — {counts}")
        return out


def _done_kinds(session: Session, household_id: int) -> set[str]:
    done = session.execute(
        select(Erasure.kinds).where(
            Erasure.household_id == household_id, Erasure.status == "done", Erasure.scope == "household"
        )
    ).scalars()
    return {k for kinds in done for k in kinds or ()}


def due(session: Session, now: datetime | None = None) -> list[tuple[int, list[str]]]:
    """(household id, kinds now past their period and not yet erased), oldest leaver first."""
    now = now or utcnow()
    days = periods()
    left = session.execute(
        select(Household.id, Household.state_since)
        .where(Household.state != "active", Household.state_since.is_not(None))
        .where(Household.state_since <= now - timedelta(days=min(days.values())))
        .order_by(Household.state_since, Household.id)
    ).all()
    out = []
    for household_id, since in left:
        past = [k for k, d in sorted(days.items()) if since <= now - timedelta(days=d)]
        kinds = [k for k in past if k not in _done_kinds(session, household_id)]
        if kinds:
            out.append((household_id, kinds))
    return out


def apply_retention(
    session: Session, now: datetime | None = None, progress: Callable[[str], None] | None = None
) -> RetentionReport:
    """Erase every kind of record past its period; record the run on the chain."""
    report = RetentionReport()
    for household_id, kinds in due(session, now):
        erasure = Erasure(
            scope="household",
            household_id=household_id,
            kinds=kinds,
            origin="retention",
            reason="retention",
            status="approved",
            report={},
        )
        session.add(erasure)
        session.flush()
        run_erasure(session, erasure.id, progress=progress)
        report.households.append(
            {"household_id": household_id, "erasure_id": erasure.id, "kinds": kinds, "counts": dict(erasure.report)}
        )
    if report.households:
        audit.record(
            session,
            "retention.applied",
            object_type="erasures",
            after={
                "households": [{k: h[k] for k in ("household_id", "erasure_id", "kinds")} for h in report.households]
            },
        )
    return report
