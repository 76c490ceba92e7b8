"""Service earns points: when a volunteer's service record is confirmed, the volunteer's
own family (the registry household the volunteer is linked to) is credited family
volunteer points under its community's rule for the task's kind.

It subscribes to :func:`broker.community.service_records.on_confirmed`, so the credit
commits with the record or not at all. Each record is one earning (its ``source_ref``):
a confirmation sent twice writes no second record and so credits once. A family that
has not agreed to points, or a community with no rule for the activity, earns nothing;
the record stands and the reason is on the chain."""

from __future__ import annotations

from sqlalchemy.orm import Session

from broker import audit
from broker.community import points, points_rules, service_records
from broker.platform.errors import Conflict, Invalid
from models import ServiceRecord, Volunteer


def source_ref(record: ServiceRecord) -> str:
    """The earning's source: one per service record."""
    return f"service-record:{record.id}"


def credit_family(session: Session, record: ServiceRecord) -> None:
    """Credit the volunteer's family for the confirmed ``record`` (see the module)."""
    volunteer = session.get(Volunteer, record.volunteer_id)
    if volunteer is None or volunteer.household_id is None or record.minutes <= 0:
        return
    activity = record.kind if record.kind in points_rules.ACTIVITIES else "other"
    minutes = min(record.minutes, points.MAX_MINUTES)
    try:
        with session.begin_nested():
            points.earn(
                session,
                volunteer.household_id,
                activity=activity,
                minutes=minutes,
                source_ref=source_ref(record),
                served_at=record.started_at,
            )
    except (Conflict, Invalid) as exc:  # no consent, no rule: the service stands, unrewarded
        audit.record(
            session,
            "points.not_earned",
            record,
            household_id=volunteer.household_id,
            after={"reason": exc.code, "activity": activity, "minutes": minutes},
        )


service_records.on_confirmed(credit_family)
